//! Test stores: a SQLite file in a fresh folder, or a fresh PostgreSQL schema; both removed
//! when the test ends, even when it fails.

use follicle_store::{Actor, NewUser, Role, Store};
use uuid::Uuid;

pub use follicle_store::testing::{TestStore, temp_dir};

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

/// A clinic with one user of each role.
pub struct Clinic {
    pub owner: Actor,
    pub practitioner: Actor,
    pub front_desk: Actor,
    pub owner_email: String,
}

/// Creates a clinic named `name` with an owner, a practitioner and a front-desk user, whose
/// emails are unique to this call.
pub async fn clinic(store: &Store, name: &str) -> Clinic {
    let tag = Uuid::new_v4().simple().to_string();
    let user = |role: Role, who: &str| NewUser {
        email: format!("{who}.{tag}@clinic.example"),
        name: format!("{who} of {name}"),
        role,
        password: PASSWORD.to_owned(),
    };
    let owner_user = user(Role::Owner, "owner");
    let owner_email = owner_user.email.clone();
    let (_, owner) = store.create_clinic_with_owner(name, owner_user).await.unwrap();
    let practitioner = store
        .add_user(&owner, user(Role::Practitioner, "practitioner"))
        .await
        .unwrap();
    let front_desk = store
        .add_user(&owner, user(Role::FrontDesk, "desk"))
        .await
        .unwrap();
    Clinic {
        owner,
        practitioner: store.actor(practitioner.id).await.unwrap(),
        front_desk: store.actor(front_desk.id).await.unwrap(),
        owner_email,
    }
}
