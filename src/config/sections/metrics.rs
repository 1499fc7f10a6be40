//! `[metrics]`: the Prometheus listener.

use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::optional_socket_addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `address:port` of the `/metrics` listener (never the public one); empty (`None`) turns
    /// metrics off. Restart to change.
    #[serde(with = "optional_socket_addr")]
    pub listen: Option<SocketAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 9464))),
        }
    }
}

impl MetricsConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        checks.section("metrics").parsed("listen");
    }
}
