//! Support-desk accounts: organisations and their administrators and operators, and the
//! browsers they signed in with.
//!
//! Passwords get Argon2id ([`crate::secrets`]); a signed-in browser holds a random cookie
//! secret of which only the SHA-256 is stored, beside the CSRF token its forms must carry.

use crate::audit::{Actor, AuditKind};
use crate::error::{ApiError, Refused, ServerError};
use crate::names::clean_name;
use crate::secrets::{hash_password, random_token, run_hashing, sha256_hex, verify_password};
use crate::store::{AuditEvent, Store, UserRecord};
use protocol::ids::{OrgId, UserId};

/// Shortest password an account may have, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// How long a sign-in lasts without signing in again.
pub const SESSION_SECS: i64 = 12 * 3600;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages the organisation's accounts and enrolment tokens, and is an operator too.
    Admin,
    /// Watches the dashboard and offers help to the organisation's machines.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Self::Admin),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// A person with an account, as the server knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org: OrgId,
    pub org_name: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// How the novice sees this person in the consent prompt.
    pub fn as_expert(&self) -> String {
        format!("{} ({} support desk)", self.display_name, self.org_name)
    }
}

/// A login: a name ([`clean_name`]) of lowercase letters, digits and `. _ @ -`.
pub fn clean_login(raw: &str) -> Result<String, Refused> {
    let login = clean_name(raw, "The login")?.to_lowercase();
    if !login
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
    {
        return Err(Refused::bad_request(
            "A login may hold only letters, digits and . _ @ -",
        ));
    }
    Ok(login)
}

/// Refuses passwords too short to resist guessing.
pub fn check_new_password(password: &str) -> Result<(), Refused> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Refused::bad_request(format!(
            "The password must have at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    Ok(())
}

/// Creates an administrator of `org_name`, creating the organisation when it is new.
pub async fn create_admin(
    store: &Store,
    org_name: &str,
    login: &str,
    display_name: &str,
    password: &str,
    now: i64,
) -> Result<User, ApiError> {
    let org_name = clean_name(org_name, "The organisation's name")?;
    let org = match store.org_by_name(&org_name).await? {
        Some(id) => id,
        None => {
            let id = OrgId::new_random();
            let mut writes = store.begin().await?;
            writes.insert_org(id, &org_name, now).await?;
            writes.commit().await?;
            id
        }
    };
    create_user(
        store,
        org,
        Role::Admin,
        login,
        display_name,
        password,
        None,
        now,
    )
    .await
}

/// Creates an account in `org`; `by` is the administrator doing it (none from the command
/// line). Refuses a login already in use.
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    store: &Store,
    org: OrgId,
    role: Role,
    login: &str,
    display_name: &str,
    password: &str,
    by: Option<&User>,
    now: i64,
) -> Result<User, ApiError> {
    let login = clean_login(login)?;
    let display_name = clean_name(display_name, "The name")?;
    check_new_password(password)?;
    if store.user_by_login(&login).await?.is_some() {
        return Err(Refused::bad_request(format!("The login {login:?} is already taken.")).into());
    }
    let password = password.to_owned();
    let password_hash = run_hashing(move || hash_password(&password))
        .await
        .map_err(ServerError::from)?
        .map_err(|e| ServerError::PasswordHash(e.to_string()))?;
    let record = UserRecord {
        id: UserId::new_random(),
        org,
        login,
        display_name,
        role,
        password_hash,
    };
    let mut writes = store.begin().await?;
    writes.insert_user(&record, now).await?;
    let actor = by.map_or(Actor::Command, |u| Actor::Person(&u.login));
    writes
        .append_audit(
            AuditEvent {
                org: Some(org),
                user: by.map(|u| u.id),
                detail: &format!("{} {}", role.as_str(), record.login),
                ..AuditEvent::new(AuditKind::AccountCreated, actor)
            },
            now,
        )
        .await?;
    writes.commit().await?;
    Ok(store
        .user(record.id)
        .await?
        .ok_or_else(|| ServerError::Invariant("the new account vanished".into()))?)
}

/// Checks a login and password. Unknown logins cost the same hashing work as known ones, so
/// timing does not tell which logins exist.
pub async fn check_password(
    store: &Store,
    login: &str,
    password: &str,
) -> Result<Option<User>, ServerError> {
    let found = store.user_by_login(&login.trim().to_lowercase()).await?;
    let phc = found
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| UNKNOWN_USER_HASH.to_owned());
    let password = password.to_owned();
    let ok = run_hashing(move || verify_password(&password, &phc)).await?;
    Ok(found.filter(|_| ok).map(|(user, _)| user))
}

/// An Argon2id hash of a random password nobody knows, checked for unknown logins.
const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xh1Kd3bS6JmYkD7cY0mRr5o8l0Qm0Vv9w0dVYq3mJ7E";

/// A signed-in browser: the cookie secret to hand out and the CSRF token of its forms.
#[derive(Debug)]
pub struct NewWebSession {
    pub cookie: String,
    pub csrf: String,
}

/// Records a sign-in and returns the secrets for the browser.
pub async fn open_web_session(
    store: &Store,
    user: &User,
    now: i64,
) -> Result<NewWebSession, ServerError> {
    let cookie = random_token();
    let csrf = random_token();
    let mut writes = store.begin().await?;
    writes
        .insert_web_session(
            &sha256_hex(&cookie),
            user.id,
            &csrf,
            now,
            now + SESSION_SECS,
        )
        .await?;
    writes
        .append_audit(
            AuditEvent {
                org: Some(user.org),
                user: Some(user.id),
                ..AuditEvent::new(AuditKind::SignedIn, Actor::Person(&user.login))
            },
            now,
        )
        .await?;
    writes.commit().await?;
    Ok(NewWebSession { cookie, csrf })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_lowercase_and_plain() {
        assert_eq!(
            clean_login(" Alice.B@desk ").ok(),
            Some("alice.b@desk".into())
        );
        assert!(clean_login("al ice").is_err());
        assert!(clean_login("").is_err());
        assert!(clean_login("a<b").is_err());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("123456789").is_err());
        assert!(check_new_password("0123456789").is_ok());
    }

    #[test]
    fn the_unknown_user_hash_parses_and_matches_nothing_common() {
        assert!(argon2::password_hash::PasswordHash::new(UNKNOWN_USER_HASH).is_ok());
        assert!(!verify_password("", UNKNOWN_USER_HASH));
        assert!(!verify_password("password", UNKNOWN_USER_HASH));
    }
}
