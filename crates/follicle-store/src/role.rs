//! Roles and the permission table: who in a clinic may do what.
//!
//! | action | owner | practitioner | front desk |
//! |---|:-:|:-:|:-:|
//! | view clients (contact details, list, search) | ✓ | ✓ | ✓ |
//! | edit clients (create, update contact details) | ✓ | ✓ | ✓ |
//! | delete clients | ✓ | | |
//! | manage appointments | ✓ | ✓ | ✓ |
//! | view clinical records (consultations, designs, session logs, photos, consents) | ✓ | ✓ | |
//! | edit clinical records (add consultations, designs, session logs, photos, consents) | ✓ | ✓ | |
//! | manage pigments (products, batches, stock) | ✓ | ✓ | |
//! | run a recall (every client who received a batch) | ✓ | ✓ | |
//! | export a client's whole record (records, photos, audit trail) | ✓ | ✓ | |
//! | read the audit log | ✓ | | |
//! | see the clinic's users | ✓ | ✓ | |
//! | manage users | ✓ | | |
//! | edit clinic settings (settings file, retention) | ✓ | | |
//! | back up the database | ✓ | | |
//! | read the owner's reports (sessions and revenue, deposits, no-shows, touch-ups, batches) | ✓ | | |
//! | take payments (deposits, balances, refunds) and hand over receipts | ✓ | ✓ | ✓ |
//!
//! Why: the front desk books and greets clients, so it needs their contact details and the
//! diary, but health data (the medical questionnaire inside a consultation, session logs,
//! photos, and a client's free-text notes, which the front desk gets blank) is
//! special-category data under GDPR and stays with the people who treat.
//! A client asks the people who treat them for their record, so practitioners may export it;
//! seeing who looked at it is the data controller's (the owner's) business.

use serde::{Deserialize, Serialize};

use crate::error::{StoreError, StoreResult};

/// A user's role in their clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the clinic: everything, including users and settings.
    Owner,
    /// Treats clients: clinical records, pigments, recalls.
    Practitioner,
    /// Books and greets: clients' contact details and appointments.
    FrontDesk,
}

/// Something a user may or may not do; see the table in [`crate::role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List, search and read clients' contact details.
    ViewClients,
    /// Create clients and change their contact details.
    EditClients,
    /// Delete a client who has no records.
    DeleteClients,
    /// Book, move and change the status of appointments.
    ManageAppointments,
    /// Read consultations, designs, session logs, photos and consents.
    ViewClinicalRecords,
    /// Add consultations, designs, session logs, photos and consents.
    EditClinicalRecords,
    /// Add pigment products and batches, change stock.
    ManagePigments,
    /// List every client who received a pigment batch.
    RunRecall,
    /// Export a client's whole record.
    ExportClient,
    /// Read the audit log.
    ViewAuditLog,
    /// List the clinic's users (who works here, their emails and roles).
    ViewUsers,
    /// Add users and change their roles.
    ManageUsers,
    /// Change the clinic's settings.
    EditSettings,
    /// Copy the database.
    Backup,
    /// Read the owner's reports: sessions and revenue by month, deposits, no-shows,
    /// touch-ups due, pigment batch usage.
    ViewReports,
    /// Record payments (deposits, balances, refunds; taken or due) and hand over receipts.
    TakePayments,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Owner, Role::Practitioner, Role::FrontDesk];

    /// The name stored and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Practitioner => "practitioner",
            Role::FrontDesk => "front_desk",
        }
    }

    /// Parses a stored or typed name; the error lists the allowed values.
    pub fn parse(text: &str) -> StoreResult<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| {
            StoreError::invalid(
                "role",
                format!("expected one of owner, practitioner, front_desk, got {text:?}"),
            )
        })
    }

    /// The permission table: whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Owner => true,
            Role::Practitioner => matches!(
                action,
                ViewClients
                    | EditClients
                    | ManageAppointments
                    | ViewClinicalRecords
                    | EditClinicalRecords
                    | ManagePigments
                    | RunRecall
                    | ExportClient
                    | ViewUsers
                    | TakePayments
            ),
            Role::FrontDesk => matches!(
                action,
                ViewClients | EditClients | ManageAppointments | TakePayments
            ),
        }
    }
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 16] = [
        Action::ViewClients,
        Action::EditClients,
        Action::DeleteClients,
        Action::ManageAppointments,
        Action::ViewClinicalRecords,
        Action::EditClinicalRecords,
        Action::ManagePigments,
        Action::RunRecall,
        Action::ExportClient,
        Action::ViewAuditLog,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::EditSettings,
        Action::Backup,
        Action::ViewReports,
        Action::TakePayments,
    ];

    /// In words, for messages: "view clinical records".
    pub fn describe(self) -> &'static str {
        match self {
            Action::ViewClients => "view clients",
            Action::EditClients => "edit clients",
            Action::DeleteClients => "delete clients",
            Action::ManageAppointments => "manage appointments",
            Action::ViewClinicalRecords => "view clinical records",
            Action::EditClinicalRecords => "edit clinical records",
            Action::ManagePigments => "manage pigments",
            Action::RunRecall => "run a recall",
            Action::ExportClient => "export a client's record",
            Action::ViewAuditLog => "read the audit log",
            Action::ViewUsers => "see the clinic's users",
            Action::ManageUsers => "manage users",
            Action::EditSettings => "edit clinic settings",
            Action::Backup => "back up the database",
            Action::ViewReports => "read the owner's reports",
            Action::TakePayments => "take payments",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_may_everything_front_desk_no_clinical_records() {
        assert!(Action::ALL.iter().all(|&a| Role::Owner.may(a)));
        for action in [
            Action::ViewClinicalRecords,
            Action::EditClinicalRecords,
            Action::ManageUsers,
            Action::EditSettings,
        ] {
            assert!(!Role::FrontDesk.may(action), "{action}");
        }
        assert!(Role::Practitioner.may(Action::EditClinicalRecords));
        assert!(!Role::Practitioner.may(Action::ManageUsers));
    }

    /// The whole table, written out as in the module documentation: O, P, F for the roles
    /// that may.
    #[test]
    fn permission_table() {
        use Action::*;
        let table = [
            (ViewClients, "OPF"),
            (EditClients, "OPF"),
            (DeleteClients, "O"),
            (ManageAppointments, "OPF"),
            (ViewClinicalRecords, "OP"),
            (EditClinicalRecords, "OP"),
            (ManagePigments, "OP"),
            (RunRecall, "OP"),
            (ExportClient, "OP"),
            (ViewAuditLog, "O"),
            (ViewUsers, "OP"),
            (ManageUsers, "O"),
            (EditSettings, "O"),
            (Backup, "O"),
            (ViewReports, "O"),
            (TakePayments, "OPF"),
        ];
        assert_eq!(table.len(), Action::ALL.len());
        for (action, allowed) in table {
            for (role, letter) in [
                (Role::Owner, 'O'),
                (Role::Practitioner, 'P'),
                (Role::FrontDesk, 'F'),
            ] {
                assert_eq!(role.may(action), allowed.contains(letter), "{role} {action}");
            }
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        let error = Role::parse("admin").unwrap_err().to_string();
        assert!(error.contains("owner, practitioner, front_desk"), "{error}");
    }
}
