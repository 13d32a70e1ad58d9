//! Finds the landmarks on one photo a given number of times and prints them: the program
//! `scripts/callgrind-vision` runs under callgrind to count the instructions `find` takes
//! (a repeatable figure on a shared, noisy machine, where times are not).
//!
//! ```text
//! cargo run --profile bench -p follicle-vision --example find_once -- assets/photos/biden.jpg 1
//! ```

use follicle_vision::{FaceLandmarker, decode_upright};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: find_once PHOTO [TIMES]");
        std::process::exit(2);
    };
    let times: usize = match args.next().map(|t| t.parse()) {
        None => 1,
        Some(Ok(t)) if t >= 1 => t,
        Some(_) => {
            eprintln!("TIMES: expected a whole number of at least 1");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    });
    let photo = decode_upright(&bytes, None).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    });
    let landmarker = FaceLandmarker::new().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    for _ in 0..times {
        match landmarker.find(&photo) {
            Ok(found) => {
                for p in &found.points {
                    println!("{:?} {:.2} {:.2}", p.name, p.x_px, p.y_px);
                }
            }
            Err(e) => println!("{e}"),
        }
    }
}
