//! Who may become a WebSocket client: at most the client cap at once (`websocket.max_clients`,
//! lowered when the open-file limit is short; see [`crate::fd_limit`]), and at most
//! `websocket.max_clients_per_ip` from one client address, so that one address cannot take
//! every slot. A slot is taken before the upgrade is answered and given back when its
//! [`ClientSlot`] drops, however the connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The client count, the cap and the count per address.
pub struct Admission {
    clients: AtomicUsize,
    client_cap: AtomicUsize,
    /// Addresses with at least one client, and how many they have.
    per_ip: Mutex<HashMap<IpAddr, u32>>,
}

/// Why a client was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client cap is reached.
    Full,
    /// The client's address has `max_clients_per_ip` clients already.
    TooManyFromAddress,
}

/// One admitted client's place; dropping it gives the place back.
pub struct ClientSlot {
    admission: Arc<Admission>,
    ip: Option<IpAddr>,
}

impl Admission {
    pub fn new(client_cap: u32) -> Self {
        Self {
            clients: AtomicUsize::new(0),
            client_cap: AtomicUsize::new(client_cap as usize),
            per_ip: Mutex::new(HashMap::new()),
        }
    }

    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    pub fn client_cap(&self) -> usize {
        self.client_cap.load(Ordering::Relaxed)
    }

    /// Sets the cap for clients admitted from now on (those connected stay).
    pub fn set_client_cap(&self, cap: u32) {
        self.client_cap.store(cap as usize, Ordering::Relaxed);
    }

    /// Takes a place for a client from `ip` (none: not counted per address), or says why not.
    pub fn admit(
        self: &Arc<Self>,
        ip: Option<IpAddr>,
        max_per_ip: u32,
    ) -> Result<ClientSlot, Refusal> {
        // One lock for both counts, so that concurrent upgrades cannot overshoot either.
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if self.clients() >= self.client_cap() {
            return Err(Refusal::Full);
        }
        if let Some(ip) = ip {
            let count = per_ip.entry(ip).or_insert(0);
            if *count >= max_per_ip {
                if *count == 0 {
                    per_ip.remove(&ip);
                }
                return Err(Refusal::TooManyFromAddress);
            }
            *count += 1;
        }
        self.clients.fetch_add(1, Ordering::Relaxed);
        Ok(ClientSlot {
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let admission = &self.admission;
        let mut per_ip = admission.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ip) = self.ip {
            if let Some(count) = per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
        admission.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn one_address_cannot_take_every_place() {
        let admission = Arc::new(Admission::new(5));
        let a: Vec<_> = (0..2).map(|_| admission.admit(ip(1), 2).unwrap()).collect();
        assert_eq!(
            admission.admit(ip(1), 2).err(),
            Some(Refusal::TooManyFromAddress)
        );
        let b = admission.admit(ip(2), 2).unwrap();
        drop(a);
        assert_eq!(admission.clients(), 1);
        let again = admission.admit(ip(1), 2).unwrap();
        drop((b, again));
        assert_eq!(admission.clients(), 0);
        assert!(
            admission.per_ip.lock().unwrap().is_empty(),
            "no address kept"
        );
    }

    #[test]
    fn the_cap_counts_every_client_and_can_change() {
        let admission = Arc::new(Admission::new(2));
        let held: Vec<_> = [ip(1), ip(2)]
            .into_iter()
            .map(|ip| admission.admit(ip, 10).unwrap())
            .collect();
        assert_eq!(admission.admit(None, 10).err(), Some(Refusal::Full));
        admission.set_client_cap(3);
        let third = admission.admit(None, 10).unwrap();
        // Lowered below the clients connected: they stay, nobody new comes in.
        admission.set_client_cap(1);
        assert_eq!(admission.admit(ip(9), 10).err(), Some(Refusal::Full));
        drop((held, third));
        assert_eq!(admission.clients(), 0);
        // A cap of zero admits nobody.
        admission.set_client_cap(0);
        assert_eq!(admission.admit(ip(1), 10).err(), Some(Refusal::Full));
        assert!(admission.per_ip.lock().unwrap().is_empty());
    }
}
