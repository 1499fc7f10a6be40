//! Integration tests: the real daemon (binary or in-process) against a real PostgreSQL,
//! one fresh database per test. One module per area.

mod harness;

mod config_cli;
mod health;
mod http_errors;
mod lifecycle_stop;
mod logging;
mod migrations;
mod openapi;
mod startup;
