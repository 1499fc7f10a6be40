//! Tests of loading as a whole: merging, error reporting, masking, the shipped file, and the
//! typed values validation produces.

/// `text` with `server.environment = "development"` unless it names an environment, so
/// that a test of other keys needs no session secret (production, the default, does).
/// Text that is not TOML is left as it is.
fn in_development(text: &str) -> String {
    let Ok(mut table) = text.parse::<toml::Table>() else {
        return text.to_string();
    };
    let server = table
        .entry("server")
        .or_insert_with(|| toml::Value::Table(Default::default()));
    match server.as_table_mut() {
        Some(server) if !server.contains_key("environment") => {
            server.insert("environment".into(), "development".into());
            table.to_string()
        }
        _ => text.to_string(),
    }
}

mod loading;
mod shipped_file;
mod typed;
