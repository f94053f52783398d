//! Reading the persisted [`Settings`]: a remembered rule spec that no longer parses falls back to its default, and
//! the window says so, instead of the whole settings being dropped.

use serde::{Deserialize, Deserializer};

use super::state::Settings;
use crate::lrp::{Composite, RuleChoice};

/// Storage key of the persisted [`Settings`].
pub const SETTINGS_KEY: &str = "lrp-explorer-settings";

/// The spec fields as plain text, read a second time to name the specs that were replaced.
#[derive(Default, Deserialize)]
#[serde(default)]
struct StoredSpecs {
    rule_choice: String,
    faith_rule: String,
    layer_rules: Option<String>,
}

/// The settings in `storage` (defaults when there are none or they cannot be read) and a notice for each remembered
/// value that was replaced.
pub fn load_settings(storage: Option<&dyn eframe::Storage>) -> (Settings, Vec<String>) {
    let Some(storage) = storage else {
        return (Settings::default(), Vec::new());
    };
    if storage.get_string(SETTINGS_KEY).is_none() {
        return (Settings::default(), Vec::new());
    }
    let Some(settings) = eframe::get_value::<Settings>(storage, SETTINGS_KEY) else {
        return (
            Settings::default(),
            vec!["the remembered settings could not be read; starting from the defaults".into()],
        );
    };
    let specs: StoredSpecs = eframe::get_value(storage, SETTINGS_KEY).unwrap_or_default();
    let mut notices = Vec::new();
    for (what, spec, now) in [
        ("rule", &specs.rule_choice, settings.rule_choice.to_string()),
        ("faithfulness rule", &specs.faith_rule, settings.faith_rule.to_string()),
    ] {
        if let Err(e) = spec.parse::<RuleChoice>()
            && !spec.is_empty()
        {
            notices.push(format!(
                "the remembered {what} could not be used ({e}); using {now} instead"
            ));
        }
    }
    if let Some(Err(e)) = specs.layer_rules.as_deref().map(str::parse::<Composite>) {
        notices.push(format!(
            "the remembered per-layer rules could not be used ({e}); they are dropped"
        ));
    }
    (settings, notices)
}

/// `spec` as a `T`, or `fallback` when it is not one.
fn spec_or<'de, D: Deserializer<'de>, T: std::str::FromStr>(deserializer: D, fallback: T) -> Result<T, D::Error> {
    let spec = String::deserialize(deserializer)?;
    Ok(spec.parse().unwrap_or(fallback))
}

pub(super) fn rule_choice_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RuleChoice, D::Error> {
    spec_or(deserializer, Settings::default().rule_choice)
}

pub(super) fn faith_rule_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RuleChoice, D::Error> {
    spec_or(deserializer, Settings::default().faith_rule)
}

pub(super) fn layer_rules_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Composite>, D::Error> {
    let spec = Option::<String>::deserialize(deserializer)?;
    Ok(spec.and_then(|s| s.parse().ok()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use eframe::Storage as _;

    use super::*;

    #[derive(Default)]
    struct MemoryStorage(HashMap<String, String>);

    impl eframe::Storage for MemoryStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }

        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }

        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }

        fn flush(&mut self) {}
    }

    #[test]
    fn settings_round_trip_with_their_specs() {
        let mut storage = MemoryStorage::default();
        let mut settings = Settings {
            rule_choice: "alphabeta:2,1@nobias".parse().unwrap_or_default(),
            layer_rules: "0=epsilon:0.25;3=zplus".parse().ok(),
            faith_rule: "integrated_gradients:8".parse().unwrap_or_default(),
            sample: 42,
            ..Settings::default()
        };
        settings.remember_model("m.onnx".into());
        eframe::set_value(&mut storage, SETTINGS_KEY, &settings);
        let text = storage.get_string(SETTINGS_KEY).unwrap_or_default();
        assert!(text.contains("\"alphabeta:2,1@nobias\""), "{text}");
        let (loaded, notices) = load_settings(Some(&storage));
        assert_eq!(loaded, settings);
        assert!(notices.is_empty(), "{notices:?}");
    }

    #[test]
    fn an_unknown_spec_falls_back_with_a_notice() {
        let mut storage = MemoryStorage::default();
        storage.set_string(
            SETTINGS_KEY,
            r#"(rule_choice: "bogus_rule", faith_rule: "zplus", layer_rules: Some("0=nonsense"), sample: 3)"#.into(),
        );
        let (loaded, notices) = load_settings(Some(&storage));
        assert_eq!(loaded.rule_choice, RuleChoice::default());
        assert_eq!(loaded.faith_rule.to_string(), "zplus");
        assert_eq!(loaded.layer_rules, None);
        assert_eq!(loaded.sample, 3, "the other settings are kept");
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(
            notices[0].contains("bogus_rule") && notices[0].contains("using epsilon_plus"),
            "{notices:?}"
        );
        assert!(notices[1].contains("per-layer rules"), "{notices:?}");
    }

    #[test]
    fn old_string_settings_load_as_typed_choices() {
        let mut storage = MemoryStorage::default();
        storage.set_string(
            SETTINGS_KEY,
            r#"(rule_choice: "epsilon_gamma_box", faith_rule: "gradient", layer_rules: None)"#.into(),
        );
        let (loaded, notices) = load_settings(Some(&storage));
        assert_eq!(loaded.rule_choice.to_string(), "epsilon_gamma_box");
        assert!(notices.is_empty());
        assert_eq!(load_settings(None).0, Settings::default());
        storage.set_string(SETTINGS_KEY, "not ron at all (".into());
        let (loaded, notices) = load_settings(Some(&storage));
        assert_eq!(loaded, Settings::default());
        assert_eq!(notices.len(), 1);
    }
}
