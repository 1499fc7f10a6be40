//! Integration tests: the real daemon (binary or in-process) against a real PostgreSQL,
//! one fresh database per test. One module per area.

mod harness;

mod accounts;
mod admin;
mod api_contract;
mod backup;
mod bonus_codes;
mod browser;
mod compression;
mod config_cli;
mod database_tls;
mod drain;
mod health;
mod http_errors;
mod leaderboard_api;
mod legacy_import;
mod lifecycle_stop;
mod linking;
mod log_reopen;
mod logging;
mod login_throttle;
mod metrics;
mod migrations;
mod nul_text;
mod old_addresses;
mod openapi;
mod password_reset;
mod race_windows;
mod races;
mod reload;
mod request_security;
mod restore;
mod session_ending;
mod socket_activation;
mod startup;
mod systemd_notify;
mod telegram;
mod upstream_hold;
mod upstream_sync;
mod upstream_token;
mod web;
mod websocket;
mod websocket_capacity;
mod websocket_frames;
