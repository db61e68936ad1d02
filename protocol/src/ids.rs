//! Identifier newtypes. They serialise as plain UUID strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A registered agent (one novice machine).
    AgentId
);
id_type!(
    /// One invitation an agent created.
    InvitationId
);
id_type!(
    /// One attempt by an expert to help through an invitation, from redemption to hang-up.
    SessionId
);
id_type!(
    /// An organisation: a help desk, its people and the machines enrolled into it.
    OrgId
);
id_type!(
    /// A person with an account: administrator, operator or registered expert.
    UserId
);
id_type!(
    /// An enrolment token an administrator created (the id, never the secret).
    EnrolmentTokenId
);
