//! The scale benchmark (issue 16): seeds busy clinics through the store's own API — no SQL
//! that bypasses it — and prints the p50 and p95 of the reads a clinic makes all day. A
//! benchmark, not a test: `scripts/bench-scale` runs it on SQLite and on PostgreSQL.
//!
//! One busy clinic is 5,000 clients, 30,000 appointments over ten years (and a few today),
//! 20,000 session logs (each completing an appointment), 100,000 photo records (five angles a
//! session; tiny PNGs kept in an in-memory blob store, since only the records are read here)
//! and the audit rows all that writes, topped up to `--audit-rows` in all with audited reads:
//! a tenth reads of client records, the rest recall pages of the clinic's batches (each writes
//! a row for every client on it, so a busy clinic seeds in about three minutes on PostgreSQL
//! instead of an hour). PostgreSQL seeds with `synchronous_commit=off` and an `ANALYZE` now and
//! then (as autovacuum would: every 20 s at first, every 5 minutes later); the measures run on a
//! store opened as a server opens it.
//! `--parallel N` seeds N clinics at once. Everything random comes from `--seed`, so a clinic's
//! clients can be told again without reading them back.
//!
//! The seeded database is kept (`--data`, a SQLite file; for PostgreSQL a schema
//! `scale_<clinics>` in `--pg-url`'s database) with a marker file, so a re-run only measures.
//!
//! ```text
//! cargo run -p follicle-store --example bench_scale -- --backend sqlite --clinics 1
//! ```

use std::path::PathBuf;
use std::time::Instant;

use follicle_core::ZoneKind;
use follicle_store::{
    Actor, AppointmentStatus, AuditFilter, Blobs, NewAppointment, NewClient, NewPhoto, NewPigmentBatch,
    NewPigmentProduct, NewSessionLog, NewUser, PhotoAngle, Role, Store, StoreOptions,
};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, Error>;

/// The size of one busy clinic.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct Size {
    clients: usize,
    appointments: usize,
    sessions: usize,
    photos_per_session: usize,
    audit_rows: u64,
}

const PASSWORD: &str = "correct horse battery staple";
/// Days of history.
const HISTORY_DAYS: i64 = 3652;

#[derive(Debug)]
struct Args {
    backend: String,
    clinics: usize,
    samples: usize,
    seed: u64,
    data: PathBuf,
    pg_url: String,
    size: Size,
    /// How many clinics are seeded at once (each with its own calls in flight).
    parallel: usize,
}

/// The size of one busy clinic unless the arguments say otherwise.
fn parse_default_size() -> Size {
    Size {
        clients: 5_000,
        appointments: 30_000,
        sessions: 20_000,
        photos_per_session: 5,
        audit_rows: 2_000_000,
    }
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        backend: "sqlite".into(),
        clinics: 1,
        samples: 50,
        seed: 16,
        data: PathBuf::from("/work/h-scale-data"),
        pg_url: "postgres://postgres@127.0.0.1:5432/h_scale_bench".into(),
        size: parse_default_size(),
        parallel: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |what: &str| -> Result<String> {
            it.next()
                .ok_or_else(|| format!("{flag}: expected {what} after it").into())
        };
        let number = |flag: &str, text: String| -> Result<u64> {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: expected a whole number, got {text:?}").into())
        };
        match flag.as_str() {
            "--backend" => {
                args.backend = value("sqlite or postgres")?;
                if !matches!(args.backend.as_str(), "sqlite" | "postgres") {
                    return Err(
                        format!("--backend: expected sqlite or postgres, got {:?}", args.backend).into(),
                    );
                }
            }
            "--clinics" => args.clinics = number("--clinics", value("a count")?)?.clamp(1, 100) as usize,
            "--samples" => args.samples = number("--samples", value("a count")?)?.max(20) as usize,
            "--seed" => args.seed = number("--seed", value("a number")?)?,
            "--data" => args.data = PathBuf::from(value("a folder")?),
            "--pg-url" => args.pg_url = value("a postgres:// URL")?,
            "--clients" => args.size.clients = number("--clients", value("a count")?)?.max(10) as usize,
            "--appointments" => {
                args.size.appointments = number("--appointments", value("a count")?)? as usize
            }
            "--sessions" => args.size.sessions = number("--sessions", value("a count")?)? as usize,
            "--audit-rows" => args.size.audit_rows = number("--audit-rows", value("a count")?)?,
            "--parallel" => args.parallel = number("--parallel", value("a count")?)?.clamp(1, 8) as usize,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; expected --backend, --clinics, --samples, --seed, --data, --pg-url, \
                     --clients, --appointments, --sessions, --audit-rows, --parallel"
                )
                .into());
            }
        }
    }
    if args.size.sessions > args.size.appointments {
        return Err(format!(
            "--sessions: at most the number of appointments ({}), got {}",
            args.size.appointments, args.size.sessions
        )
        .into());
    }
    Ok(args)
}

/// SplitMix64: small, seeded, and the same on every machine.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FIRST: &[&str] = &[
    "James", "Mohammed", "Oliver", "Noah", "Liam", "Lucas", "Mateo", "Leo", "Arthur", "Jack", "Harry",
    "George", "Thomas", "Daniel", "David", "Samuel", "Adam", "Ethan", "Isaac", "Omar", "Yusuf", "Ali",
    "Hassan", "Ravi", "Arjun", "Wei", "Jun", "Hiroshi", "Kenji", "Carlos", "Diego", "Javier", "Luis",
    "Marco", "Luca", "Pierre", "Hugo", "Lars", "Sven", "Olaf", "Piotr", "Tomasz", "Ivan", "Dmitri", "Kwame",
    "Kofi", "Tunde", "Emeka", "Sean", "Connor", "Patrick", "Edgar", "Edward", "Gareth", "Garry", "Sam",
    "Kim", "Alex", "Chris", "Robin", "Maria", "Sofia", "Emma", "Olivia", "Amelia", "Priya", "Aisha",
    "Fatima", "Yuki", "Mei",
];
const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
    "Matthews",
    "Owen",
    "Palmer",
    "Holmes",
    "Mills",
    "Barnes",
    "Knight",
    "Lloyd",
    "Butler",
    "Russell",
    "Barker",
    "Fisher",
    "Stevens",
    "Jenkins",
    "Murray",
    "Dixon",
    "Harvey",
    "Garcia",
    "Garner",
    "Gardiner",
    "Edgar",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Nguyen",
    "Tran",
    "Kowalski",
    "Nowak",
    "Ivanov",
    "Olafsson",
    "Andersson",
    "Johansson",
    "Larsen",
    "Nielsen",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Dubois",
    "Moreau",
    "Laurent",
    "Okafor",
    "Mensah",
    "Tanaka",
    "Suzuki",
    "Takahashi",
    "Wang",
    "Zhang",
    "Chen",
    "Liu",
    "Yamamoto",
    "Kaur",
    "Sharma",
    "Gupta",
    "Das",
];

/// Client `i` of clinic `k`, the same every time for a seed.
fn client_details(seed: u64, clinic: usize, i: usize) -> NewClient {
    let mut rng = Rng::new(seed ^ ((clinic as u64) << 40) ^ (i as u64).wrapping_mul(0x1000_0000_01B3));
    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    let phone = format!("+44 7{:03} {:06}", rng.below(1000), rng.below(1_000_000));
    NewClient {
        name: format!("{first} {last}"),
        date_of_birth: None,
        age_years: Some(20 + rng.below(50) as i64),
        email: format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            i
        ),
        phone,
        notes: String::new(),
    }
}

/// Who a seeded clinic's users are (kept in the marker file).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeededClinic {
    owner: Uuid,
    practitioners: Vec<Uuid>,
    audit_rows: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    seed: u64,
    size: Size,
    clinics: Vec<SeededClinic>,
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn tiny_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 60) as u8, (y * 60) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("a 4×4 PNG encodes");
    out.into_inner()
}

async fn seed_clinic(store: &Store, args: &Args, k: usize, concurrency: usize) -> Result<SeededClinic> {
    let size = args.size;
    let started = Instant::now();
    let mut rng = Rng::new(args.seed.wrapping_add(k as u64 * 7919));
    let mut audit_rows = 0u64;
    let owner_user = NewUser {
        email: format!("owner{k}@scale.example"),
        name: format!("Owner {k}"),
        role: Role::Owner,
        password: PASSWORD.into(),
    };
    let (_, owner) = store
        .create_clinic_with_owner(&format!("Busy clinic {k}"), owner_user)
        .await?;
    let mut practitioners = Vec::new();
    for p in 0..3 {
        let user = store
            .add_user(
                &owner,
                NewUser {
                    email: format!("practitioner{p}.{k}@scale.example"),
                    name: format!("Practitioner {p} of {k}"),
                    role: Role::Practitioner,
                    password: PASSWORD.into(),
                },
            )
            .await?;
        practitioners.push(user.id);
        audit_rows += 1;
    }
    let product = store
        .add_pigment_product(
            &owner,
            &NewPigmentProduct {
                name: "Carbon black".into(),
                maker: "Scale Pigments".into(),
                ingredients: "carbon black, water, glycerin".into(),
            },
        )
        .await?;
    audit_rows += 1;
    let mut batches = Vec::new();
    for b in 0..20 {
        let batch = store
            .add_pigment_batch(
                &owner,
                &NewPigmentBatch {
                    product_id: product.id,
                    lot: format!("LOT-{k}-{b:03}"),
                    expires_on: today() + Duration::days(365 * 3),
                    quantity: 1_000_000,
                },
            )
            .await?;
        batches.push(batch.id);
        audit_rows += 1;
    }

    // Clients, in order (client i is `client_details(seed, k, i)`).
    let clients: Vec<Uuid> = stream::iter(0..size.clients)
        .map(|i| {
            let details = client_details(args.seed, k, i);
            async move { store.create_client(&owner, &details).await.map(|c| c.id) }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    audit_rows += clients.len() as u64;
    eprintln!(
        "clinic {k}: {} clients in {:.0?}",
        clients.len(),
        started.elapsed()
    );

    // Appointments over ten years, a few today and in the coming days.
    let start = today() - Duration::days(HISTORY_DAYS);
    let mut plans = Vec::with_capacity(size.appointments);
    for a in 0..size.appointments {
        let day = if a % 1000 == 0 {
            today() + Duration::days((a / 1000 % 8) as i64)
        } else {
            start + Duration::days(rng.below(HISTORY_DAYS as usize + 14) as i64)
        };
        let minutes = 9 * 60 + 30 * rng.below(16) as i64;
        let starts_at = day.with_time(Time::MIDNIGHT).assume_utc() + Duration::minutes(minutes);
        plans.push(NewAppointment {
            client_id: clients[rng.below(clients.len())],
            practitioner_id: Some(practitioners[rng.below(practitioners.len())]),
            starts_at,
            duration_minutes: 60 + 30 * rng.below(6) as i64,
            notes: String::new(),
        });
    }
    let appointments: Vec<follicle_store::Appointment> = stream::iter(plans)
        .map(|plan| async move { store.book_appointment(&owner, &plan).await })
        .buffered(concurrency)
        .try_collect()
        .await?;
    audit_rows += appointments.len() as u64;
    eprintln!(
        "clinic {k}: {} appointments in {:.0?}",
        appointments.len(),
        started.elapsed()
    );

    // Session logs: past appointments, each then completed, with five photos.
    let now = OffsetDateTime::now_utc();
    let past: Vec<&follicle_store::Appointment> = appointments.iter().filter(|a| a.starts_at < now).collect();
    let mut chosen = Vec::with_capacity(size.sessions);
    let step = past.len().max(1) as f64 / size.sessions.max(1) as f64;
    for s in 0..size.sessions.min(past.len()) {
        chosen.push(past[(s as f64 * step) as usize]);
    }
    let practitioner_actors = {
        let mut actors = Vec::new();
        for id in &practitioners {
            actors.push(store.actor(*id).await?);
        }
        actors
    };
    let png = tiny_png();
    let zones = [
        ZoneKind::Hairline,
        ZoneKind::Frontal,
        ZoneKind::MidScalp,
        ZoneKind::Crown,
    ];
    let angles = [
        PhotoAngle::Front,
        PhotoAngle::Top,
        PhotoAngle::Left,
        PhotoAngle::Right,
        PhotoAngle::Back,
    ];
    let photos_per_session = size.photos_per_session;
    let logged: Vec<u64> = stream::iter(chosen.into_iter().enumerate())
        .map(|(s, a)| {
            let actor: Actor = practitioner_actors[s % practitioner_actors.len()];
            let batch = batches[s % batches.len()];
            let png = &png;
            async move {
                let log = NewSessionLog {
                    client_id: a.client_id,
                    appointment_id: Some(a.id),
                    performed_on: a.starts_at.date(),
                    practitioner_id: actor.user_id(),
                    zones: zones[..1 + s % zones.len()].to_vec(),
                    batch_id: batch,
                    dilution: 0.5,
                    needle: "1RL 0.25".into(),
                    needle_lot: format!("N{}", s % 97),
                    depth_mm: 0.8,
                    machine_settings: "stroke 3.5 mm, 110 Hz".into(),
                    duration_minutes: a.duration_minutes,
                    anaesthetic: String::new(),
                    notes: String::new(),
                    chair: follicle_store::AtTheChair::default(),
                };
                let logged = store.log_session(&actor, &log).await?;
                store
                    .set_appointment_status(&actor, a.id, AppointmentStatus::Completed)
                    .await?;
                for (p, angle) in angles.iter().cycle().take(photos_per_session).enumerate() {
                    let photo = NewPhoto {
                        client_id: a.client_id,
                        angle: *angle,
                        taken_at: a.starts_at + Duration::minutes(p as i64),
                        session_id: Some(logged.id),
                        consent_id: None,
                        consultation_id: None,
                        consented: true,
                    };
                    store.upload_photo(&actor, &photo, png).await?;
                }
                Ok::<u64, follicle_store::StoreError>(2 + photos_per_session as u64)
            }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    audit_rows += logged.iter().sum::<u64>();
    eprintln!(
        "clinic {k}: {} session logs, {} photos in {:.0?}",
        logged.len(),
        logged.len() * photos_per_session,
        started.elapsed()
    );

    // The rest of the audit log. A tenth are reads of client records, as a busy front desk makes
    // them (one row a read); the rest are recalls of batches (a page of up to 500 of a batch's
    // sessions writes one row for each client on it), which give the same rows, a viewed client
    // each, at a fraction of the calls, so that ten clinics seed in minutes instead of an hour.
    let reads = size.audit_rows.saturating_sub(audit_rows);
    let record_reads = reads / 10;
    let readers: Vec<Actor> = practitioner_actors.clone();
    let chunk = 10_000u64;
    let mut done = 0u64;
    while done < record_reads {
        let n = chunk.min(record_reads - done);
        let mut picks = Vec::with_capacity(n as usize);
        for _ in 0..n {
            picks.push((
                clients[rng.below(clients.len())],
                readers[rng.below(readers.len())],
            ));
        }
        stream::iter(picks)
            .map(|(client, actor)| async move { store.client(&actor, client).await.map(|_| ()) })
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        done += n;
    }
    // Every page of every batch's recall, by its cursor, read in turn until the rows are written.
    let mut pages: Vec<(Uuid, Option<String>)> = Vec::new();
    for batch in &batches {
        let mut after: Option<String> = None;
        loop {
            let page = store.recall_page(&owner, *batch, after.as_deref(), 500).await?;
            done += distinct_clients(&page);
            pages.push((*batch, after));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let mut turn = 0usize;
    while done < reads && !pages.is_empty() {
        let round: Vec<&(Uuid, Option<String>)> = (0..concurrency * 4)
            .map(|i| &pages[(turn + i) % pages.len()])
            .collect();
        turn += round.len();
        let written: Vec<u64> = stream::iter(round)
            .map(|(batch, after)| async move {
                store
                    .recall_page(&owner, *batch, after.as_deref(), 500)
                    .await
                    .map(|page| distinct_clients(&page))
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let before = done;
        done += written.iter().sum::<u64>();
        if before / 200_000 != done / 200_000 || done >= reads {
            eprintln!(
                "clinic {k}: {done} audit rows of reads in {:.0?}",
                started.elapsed()
            );
        }
    }
    store.flush_audit().await?;
    audit_rows += done;
    Ok(SeededClinic {
        owner: owner.user_id(),
        practitioners,
        audit_rows,
    })
}

/// The audit rows a recall page wrote: one for each client on it.
fn distinct_clients(page: &follicle_store::RecallPage) -> u64 {
    let mut ids: Vec<Uuid> = page.entries.iter().map(|e| e.client_id).collect();
    ids.sort();
    ids.dedup();
    ids.len() as u64
}

/// Opens the store for this backend and size, seeding it unless a marker says it is seeded.
async fn open_seeded(args: &Args) -> Result<(Store, Marker, String)> {
    std::fs::create_dir_all(&args.data)?;
    let marker_path = args
        .data
        .join(format!("scale-{}-{}.json", args.backend, args.clinics));
    let existing: Option<Marker> = std::fs::read(&marker_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|m: &Marker| m.seed == args.seed && m.size == args.size);
    let options = StoreOptions {
        max_connections: 8,
        ..StoreOptions::default()
    };
    let (url, concurrency) = match args.backend.as_str() {
        "sqlite" => {
            let path = args.data.join(format!("scale-{}.db", args.clinics));
            if existing.is_none() {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            (format!("sqlite://{}", path.display()), 1)
        }
        _ => {
            // The default sizes are `scale_<clinics>`; other sizes have a schema of their own.
            let default_size = parse_default_size();
            let schema = if args.size == default_size {
                format!("scale_{}", args.clinics)
            } else {
                format!(
                    "scale_{}_c{}_a{}_s{}_r{}",
                    args.clinics,
                    args.size.clients,
                    args.size.appointments,
                    args.size.sessions,
                    args.size.audit_rows
                )
            };
            if existing.is_none() {
                admin(
                    &args.pg_url,
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
                )
                .await?;
            }
            let separator = if args.pg_url.contains('?') { '&' } else { '?' };
            (
                format!("{}{separator}options[search_path]={schema}", args.pg_url),
                4,
            )
        }
    };
    let marker = match existing {
        Some(marker) => marker,
        None => {
            let _ = std::fs::remove_file(&marker_path);
            // PostgreSQL seeds without waiting for each commit's WAL flush
            // (`synchronous_commit=off`: the same rows, written at several times the rate); the
            // measures below run on a store opened as a server opens it.
            let seeding_url = if args.backend == "postgres" {
                format!("{url}&options[synchronous_commit]=off")
            } else {
                url.clone()
            };
            // `--parallel` clinics at once, each with `concurrency` calls in flight; the
            // clinics keep their order (clinic k is always seeded from the same seed).
            let seeding_options = StoreOptions {
                max_connections: options.max_connections.max((args.parallel * concurrency) as u32),
                ..options.clone()
            };
            let seeding = Store::open_with(&seeding_url, Blobs::in_memory(), seeding_options).await?;
            // This machine's PostgreSQL runs without autovacuum, so nothing would gather the
            // planner's statistics while the tables grow from nothing: the foreign-key checks'
            // plans, made on empty tables, then read a clinic's whole `session_logs` through
            // `session_logs_batch` for each photo (measured: 5,600 rows a check, 4,600 checks in
            // 10 s). ANALYZE as autovacuum's analyze would on a live server: after 20 s, then
            // twice as long each time up to every 5 minutes (a chain's tall tables' statistics
            // change slowly, and an ANALYZE of the whole database, which samples every table,
            // takes seconds once fifty clinics are in).
            let analyzing = (args.backend == "postgres").then(|| {
                let url = url.clone();
                tokio::spawn(async move {
                    let mut every = std::time::Duration::from_secs(20);
                    loop {
                        tokio::time::sleep(every).await;
                        every = (every * 2).min(std::time::Duration::from_secs(300));
                        if let Err(e) = admin(&url, "ANALYZE").await {
                            eprintln!("ANALYZE while seeding: {e}");
                        }
                    }
                })
            });
            let clinics: Vec<SeededClinic> = stream::iter(0..args.clinics)
                .map(|k| seed_clinic(&seeding, args, k, concurrency))
                .buffered(args.parallel)
                .try_collect()
                .await?;
            if let Some(task) = analyzing {
                task.abort();
            }
            seeding.close().await;
            let marker = Marker {
                seed: args.seed,
                size: args.size,
                clinics,
            };
            std::fs::write(&marker_path, serde_json::to_vec_pretty(&marker)?)?;
            marker
        }
    };
    let store = Store::open_with(&url, Blobs::in_memory(), options).await?;
    Ok((store, marker, url))
}

async fn admin(url: &str, sql: &str) -> Result<()> {
    use sqlx::{Connection, Executor};
    let mut connection = sqlx::PgConnection::connect(url).await?;
    connection.execute(sqlx::AssertSqlSafe(sql.to_owned())).await?;
    Ok(())
}

/// Timings of one measure, in milliseconds.
struct Timing {
    name: &'static str,
    p50: f64,
    p95: f64,
    n: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs `op` a few times to warm up, then `samples` times, each with the sample's index.
async fn measure<F, Fut>(name: &'static str, samples: usize, mut op: F) -> Result<Timing>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    for i in 0..3 {
        op(samples + i).await?;
    }
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        op(i).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(Timing {
        name,
        p50: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
        n: samples,
    })
}

fn err<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    Box::new(e)
}

/// What a query term looks like for client `i`.
struct Terms {
    prefix: Vec<String>,
    part: Vec<String>,
    phone: Vec<String>,
    email: Vec<String>,
}

fn terms(args: &Args, clinic: usize, count: usize) -> Terms {
    let mut rng = Rng::new(args.seed ^ 0xB5E1);
    let mut t = Terms {
        prefix: Vec::new(),
        part: Vec::new(),
        phone: Vec::new(),
        email: Vec::new(),
    };
    for _ in 0..count {
        let c = client_details(args.seed, clinic, rng.below(args.size.clients));
        let last: Vec<char> = c.name.split(' ').nth(1).unwrap_or("x").chars().collect();
        t.prefix
            .push(last.iter().take(3).collect::<String>().to_lowercase());
        let from = rng.below(last.len().saturating_sub(3).max(1));
        t.part.push(last[from..].iter().take(4).collect());
        let digits: String = c.phone.chars().filter(char::is_ascii_digit).collect();
        t.phone.push(digits[digits.len() - 4..].to_owned());
        t.email.push(c.email.split('@').next().unwrap_or("").to_owned());
    }
    t
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let seeding = Instant::now();
    let (store, marker, url) = open_seeded(&args).await?;
    let seeded_in = seeding.elapsed();
    if args.backend == "postgres" {
        // The planner's statistics, as autovacuum keeps them on a live server (a test server
        // may run without it: this machine's does).
        admin(&url, "ANALYZE").await?;
    }
    // Measure the last clinic: with several, the one whose rows came last.
    let k = marker.clinics.len() - 1;
    let clinic = &marker.clinics[k];
    let owner = store.actor(clinic.owner).await?;
    let practitioner = store.actor(clinic.practitioners[0]).await?;
    let n = args.samples;
    let t = terms(&args, k, n + 3);
    // Clients with a history, for the record: those seen in the last year.
    let now = OffsetDateTime::now_utc();
    let recent = store
        .appointments_between(&practitioner, now - Duration::days(365), now)
        .await?;
    let mut with_history: Vec<Uuid> = recent.iter().map(|a| a.client_id).collect();
    with_history.sort();
    with_history.dedup();
    if with_history.is_empty() {
        return Err("no client was seen in the last year: is the clinic seeded?".into());
    }
    let mut results = Vec::new();
    let store = &store;
    let with_history = &with_history;
    let search = |terms: &[String], i: usize| {
        let q = terms[i % terms.len()].clone();
        async move {
            // Every term is taken from a client of the clinic: finding none is a broken search.
            let found = store.search_clients(&practitioner, &q, 50).await.map_err(err)?;
            if found.is_empty() {
                return Err(format!("search {q:?} found nobody").into());
            }
            Ok(())
        }
    };
    results.push(
        measure("client search: name prefix (3 letters)", n, |i| {
            search(&t.prefix, i)
        })
        .await?,
    );
    results.push(
        measure("client search: part of a name (4 letters)", n, |i| {
            search(&t.part, i)
        })
        .await?,
    );
    results.push(measure("client search: phone, last 4 digits", n, |i| search(&t.phone, i)).await?);
    results.push(measure("client search: email (before the @)", n, |i| search(&t.email, i)).await?);
    results.push(
        measure("clients list: first page (50)", n, |_| async move {
            store
                .search_clients(&practitioner, "", 50)
                .await
                .map(|_| ())
                .map_err(err)
        })
        .await?,
    );
    // A later page of the list: the cursors of the pages of 50, each measured from the one
    // before it, from the 20th page on (clients 1,000 onwards).
    let mut cursors = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_clients(&practitioner, after.as_deref(), 50).await?;
        match page.next {
            Some(next) => {
                cursors.push(next.clone());
                after = Some(next);
            }
            None => break,
        }
    }
    let later = cursors.split_off(cursors.len().min(19));
    if !later.is_empty() {
        let later = &later;
        results.push(
            measure("clients list: a later page (50)", n, |i| {
                let cursor = later[i % later.len()].clone();
                async move {
                    store
                        .list_clients(&practitioner, Some(&cursor), 50)
                        .await
                        .map(|_| ())
                        .map_err(err)
                }
            })
            .await?,
        );
    }
    results.push(
        measure("client record and timeline", n, |i| {
            let id = with_history[i % with_history.len()];
            async move {
                store.client(&practitioner, id).await.map_err(err)?;
                store.client_appointments(&practitioner, id).await.map_err(err)?;
                store.consultations(&practitioner, id).await.map_err(err)?;
                store.designs(&practitioner, id).await.map_err(err)?;
                store.session_logs(&practitioner, id).await.map_err(err)?;
                store.photos(&practitioner, id).await.map_err(err)?;
                Ok(())
            }
        })
        .await?,
    );
    results.push(
        measure("Today page data", n, |_| async move {
            // What `studio::today` reads: the week's diary, the days whose sessions have an
            // aftercare item beginning today, the clients whose touch-up falls due about now,
            // the names of the clients on the page, the clients seen most recently, and the
            // clinic's settings.
            let start = today().with_time(Time::MIDNIGHT).assume_utc();
            let settings = follicle_core::Settings::default();
            let week = store
                .appointments_between(&practitioner, start, start + Duration::days(7))
                .await
                .map_err(err)?;
            let mut ids: Vec<Uuid> = week.iter().map(|a| a.client_id).collect();
            let mut days: Vec<i64> = settings
                .aftercare
                .items
                .iter()
                .filter(|item| item.only_if.is_none() && item.from_day > 0)
                .map(|item| i64::from(item.from_day))
                .collect();
            days.sort_unstable();
            days.dedup();
            for d in days {
                let day = start - Duration::days(d);
                let on_day = store
                    .appointments_between(&practitioner, day, day + Duration::days(1))
                    .await
                    .map_err(err)?;
                ids.extend(on_day.iter().map(|a| a.client_id));
            }
            let years = follicle_core::fading::FadingModel::typical(&settings.fading).years_to_touch_up();
            let touch_up_days = (years * 365.25).round() as i64;
            let due = store
                .last_completed_between(
                    &practitioner,
                    start - Duration::days(touch_up_days + 90),
                    start + Duration::days(1) - Duration::days(touch_up_days - 30),
                )
                .await
                .map_err(err)?;
            ids.extend(due.iter().map(|(id, _)| *id));
            store.client_names(&practitioner, &ids).await.map_err(err)?;
            store.recent_clients(&practitioner, 8).await.map_err(err)?;
            store.clinic(&practitioner).await.map_err(err)?;
            Ok(())
        })
        .await?,
    );
    // The diary's week view (`studio::diary`, `?view=week`): the clinic's settings, its
    // practitioners (the columns), the week's appointments and their clients' names. The weeks
    // measured go back from this one, a year of them, so a window in the middle of the
    // history counts as much as the current one.
    results.push(
        measure("diary week", n, |i| async move {
            let monday = today() - Duration::days(i64::from(today().weekday().number_days_from_monday()));
            let from = (monday - Duration::weeks((i % 52) as i64))
                .midnight()
                .assume_utc();
            store.clinic(&practitioner).await.map_err(err)?;
            store.practitioners(&practitioner).await.map_err(err)?;
            let week = store
                .appointments_between(&practitioner, from, from + Duration::days(7))
                .await
                .map_err(err)?;
            let ids: Vec<Uuid> = week.iter().map(|a| a.client_id).collect();
            store.client_names(&practitioner, &ids).await.map_err(err)?;
            Ok(())
        })
        .await?,
    );
    // A batch's recall (`studio::pigments::recall`): a page of 100 of the sessions that used
    // it, by client name, with the client's contact, the totals, and an audit row for each
    // client listed. The seeding shares the clinic's sessions among 20 batches, so a recall
    // lists about 1,000 sessions: far more than a real batch's, and the measures say what
    // such a lot costs. The whole list is the recall's download (`recall.csv`).
    let batches = store.pigment_batches(&owner).await?;
    let batches = &batches;
    results.push(
        measure("recall view of a batch (a page of 100)", n, |i| {
            let batch = batches[i % batches.len()].id;
            async move {
                let page = store.recall_page(&owner, batch, None, 100).await.map_err(err)?;
                if page.entries.is_empty() {
                    return Err("a recall listed no session: is the clinic seeded?".into());
                }
                Ok(())
            }
        })
        .await?,
    );
    results.push(
        measure("recall of a batch, whole (download)", n, |i| {
            let batch = batches[i % batches.len()].id;
            async move {
                let listed = store.recall(&owner, batch).await.map_err(err)?;
                if listed.is_empty() {
                    return Err("a recall listed no session: is the clinic seeded?".into());
                }
                Ok(())
            }
        })
        .await?,
    );
    // A client's export on request (data access, GDPR art. 15): the whole record as data. The
    // archive's photo bytes are left out here: the seeding keeps them in memory only.
    results.push(
        measure("export: a client's record", n, |i| {
            let id = with_history[i % with_history.len()];
            async move { store.export_client(&owner, id).await.map(|_| ()).map_err(err) }
        })
        .await?,
    );
    results.push(
        measure("audit view: first page (50)", n, |_| async move {
            store
                .audit_trail(&owner, &AuditFilter::default())
                .await
                .map(|_| ())
                .map_err(err)
        })
        .await?,
    );
    results.push(
        measure("audit view: one client's rows", n, |i| {
            let id = with_history[i % with_history.len()];
            async move {
                let filter = AuditFilter {
                    client_id: Some(id),
                    ..AuditFilter::default()
                };
                store.audit_trail(&owner, &filter).await.map(|_| ()).map_err(err)
            }
        })
        .await?,
    );
    store.close().await;

    let rows = marker.clinics.iter().map(|c| c.audit_rows).sum::<u64>();
    println!();
    println!(
        "### {} — {} clinic(s), each {} clients, {} appointments, {} session logs, {} photos, ~{} audit rows",
        args.backend,
        args.clinics,
        args.size.clients,
        args.size.appointments,
        args.size.sessions,
        args.size.sessions * args.size.photos_per_session,
        rows / args.clinics as u64,
    );
    println!();
    println!(
        "| measure (clinic {} of {}) | p50 ms | p95 ms | n |",
        k + 1,
        args.clinics
    );
    println!("|---|---:|---:|---:|");
    for r in &results {
        println!("| {} | {:.2} | {:.2} | {} |", r.name, r.p50, r.p95, r.n);
    }
    println!();
    println!(
        "(seeding or opening: {:.0?}; data in {})",
        seeded_in,
        args.data.display()
    );
    for r in &results {
        println!(
            "RESULT backend={} clinics={} name={:?} p50_ms={:.3} p95_ms={:.3} n={}",
            args.backend, args.clinics, r.name, r.p50, r.p95, r.n
        );
    }
    Ok(())
}
