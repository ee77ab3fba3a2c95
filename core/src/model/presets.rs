//! The bundled journey models.
//!
//! | name | stages |
//! | --- | --- |
//! | `seven_phase` | Awareness, Discovery, Interest, Consideration, Action, Use, Engagement |
//! | `five_stage_loyalty` | Discovery, Evaluation, Development, Loyalty, Recommendation |
//! | `five_stage_retention` | Discovery, Consideration, Decision, Retention, Recommendation |
//! | `ecommerce` | visitor, browsing, interested, cart, abandoned_cart, customer, repeat_customer, advocate, lapsed |
//!
//! Each is a JSON file in `core/presets/`, readable as documentation of the model format.
//!
//! ```
//! for name in jornada::model::presets::NAMES {
//!     let model = jornada::Model::preset(name).unwrap();
//!     assert!(model.warnings().is_empty(), "{name}: {:?}", model.warnings());
//! }
//! ```

/// Names of the presets.
pub const NAMES: [&str; 4] = [
    "seven_phase",
    "five_stage_loyalty",
    "five_stage_retention",
    "ecommerce",
];

/// The JSON text of a preset.
pub fn json(name: &str) -> Option<&'static str> {
    Some(match name {
        "seven_phase" => include_str!("../../presets/seven_phase.json"),
        "five_stage_loyalty" => include_str!("../../presets/five_stage_loyalty.json"),
        "five_stage_retention" => include_str!("../../presets/five_stage_retention.json"),
        "ecommerce" => include_str!("../../presets/ecommerce.json"),
        _ => return None,
    })
}
