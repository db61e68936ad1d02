//! The names people give themselves and their machines: an expert's name, an agent's, an
//! account's login and display name, an organisation's. One rule for all of them, checked
//! wherever a name comes in, so that the dashboard, the consent prompt and the audit log never
//! show an empty, overlong or control-character name.

use crate::error::Refused;

/// Longest name, in characters.
pub const MAX_NAME: usize = 64;

/// Trims a name and refuses empty, overlong or control-character names; `what` names the field
/// in the refusal ("The agent's name").
pub fn clean_name(raw: &str, what: &str) -> Result<String, Refused> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Refused::bad_request(format!("{what} must not be empty.")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Refused::bad_request(format!(
            "{what} can be at most {MAX_NAME} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Refused::bad_request(format!(
            "{what} must not contain control characters."
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name("  Ada ", "The name").ok(), Some("Ada".into()));
        assert!(clean_name("   ", "The name").is_err());
        assert!(clean_name(&"x".repeat(MAX_NAME + 1), "The name").is_err());
        assert!(clean_name(&"é".repeat(MAX_NAME), "The name").is_ok());
        assert_eq!(
            clean_name("a\u{7}b", "The name").map_err(|r| r.message),
            Err("The name must not contain control characters.".into())
        );
    }
}
