//! The roles a column can play in an event set (truth label, weight, resonant mass), and
//! which column plays each.

use crate::error::{Error, Result};

/// The role a column plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Truth label: 1 signal, 0 background. Carried along, never used for training unless
    /// the user asks.
    Label,
    /// Per-event weight.
    Weight,
    /// The resonant mass (e.g. `mjj`) that bump hunts scan.
    Mass,
}

impl Role {
    /// The role's name as users write it: `label`, `weight`, `mass`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Label => "label",
            Role::Weight => "weight",
            Role::Mass => "mass",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "label" => Ok(Role::Label),
            "weight" => Ok(Role::Weight),
            "mass" => Ok(Role::Mass),
            _ => Err(Error::invalid(
                "role",
                format!("'{name}' is not a role; use label, weight or mass"),
            )),
        }
    }
}

/// Which columns carry the roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// The truth-label column.
    pub label: Option<String>,
    /// The weight column.
    pub weight: Option<String>,
    /// The resonant-mass column.
    pub mass: Option<String>,
}

impl Roles {
    pub(super) fn get(&self, role: Role) -> Option<&str> {
        match role {
            Role::Label => self.label.as_deref(),
            Role::Weight => self.weight.as_deref(),
            Role::Mass => self.mass.as_deref(),
        }
    }

    pub(super) fn slot(&mut self, role: Role) -> &mut Option<String> {
        match role {
            Role::Label => &mut self.label,
            Role::Weight => &mut self.weight,
            Role::Mass => &mut self.mass,
        }
    }
}
