//! # jornada-wasm
//!
//! The WebAssembly binding of jornada for browsers and Node.js: [`Journey`](WasmJourney) (one
//! visitor's journey, scored client-side and kept in `localStorage`) and
//! [`Engine`](WasmEngine) (the full engine, as a backend uses it). Every exported method is a
//! thin shell: it converts JS values ([`js`]) into what the core reads, calls the core, and
//! converts the result into its JS shape ([`shapes`]). No journey logic lives here.
//!
//! Errors are JS `Error` objects with a `code` (the core's stable codes, `errorCodes()`), and
//! `path`, `index`, `line`, `problems` where known. No entry point panics on any input: see
//! the README's error-handling plan.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod js;
pub mod shapes;

use jornada::{Engine, Journey, Model, Rejected, Touchpoint};
use js::{coded, object};
use shapes::{JsCustomer, JsErasure, JsOutcome, JsScore};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_SHAPES: &str = r#"
/** A point in time: epoch milliseconds, RFC 3339 text, or a Date. Times in results are epoch milliseconds. */
export type Time = number | string | Date;
/** A model: a preset name (`"ecommerce"`), model JSON text, or a model object. */
export type ModelInput = string | object;
/** A touchpoint: its canonical JSON form as an object (or JSON text). A Journey's touchpoints name no customer. */
export interface TouchpointInput {
  id?: string;
  channel: string;
  kind: string;
  at: Time;
  value?: number;
  properties?: Record<string, string | number | boolean | null>;
  /** Identity keys, one field per identity kind of the model (Engine only). */
  [identityKind: string]: unknown;
}
export interface Transition { customer: string; from: string | null; to: string; at: number; rule: string | null; channel: string | null; }
export interface Action {
  customer: string; action: string; channel: string | null; params: Record<string, string | number | boolean>;
  at: number; stage: string; rule: string | null; suppressed: boolean;
}
export interface Merge { into: string; from: string[]; at: number; }
export interface Rejected { index: number; code: ErrorCode; path: string | null; line: number | null; message: string; }
/** What one call caused (a net delta, see the core's Outcome). */
export interface Outcome {
  transitions: Transition[]; actions: Action[];
  retractedTransitions: Transition[]; retractedActions: Action[];
  merges: Merge[]; duplicates: string[]; rejected: Rejected[];
}
export interface StageVisit { stage: string; enteredAt: number; rule: string | null; channel: string | null; }
export interface ConsentEntry { channel: string; granted: boolean; at: number; }
export interface Customer {
  id: string; stage: string | null; since: number | null; keys: [string, string][];
  history: StageVisit[]; touchpoints: number; lastSeen: number | null; consent: ConsentEntry[];
}
export interface Erasure { customer: string; keys: number; events: number; }
export interface StageCount { stage: string; count: number; }
export interface PlannedAction { action: string; channel: string | null; params: Record<string, string | number | boolean>; }
/** One thing the model would do next (see core/src/score.rs for the exact definitions). */
export interface NextAction {
  rule: string;
  trigger: "timeout" | "touchpoint";
  /** Timeout: when it fires, as of now. */
  due: number | null;
  /** Timeout: event kinds that cancel it. */
  unless: string[];
  /** Touchpoint: event kinds that trigger it. */
  on: string[];
  channels: string[] | null;
  count: { atLeast: number; within: number | null } | null;
  conditional: boolean;
  to: string | null;
  actions: PlannedAction[];
}
export interface Effort { touches: number; channels: number; channelSwitches: number; elapsed: number; }
/** A journey scored. `probabilityToConvert` and `expectedTimeToConvert` are absent when the model's scoring table has no figure. */
export interface Score {
  stage: string | null; stageIndex: number | null; enteredAt: number | null; progress: number;
  probabilityToConvert?: number; expectedTimeToConvert?: number;
  nextActions: NextAction[]; effort: Effort;
}
export type ErrorCode =
  | "invalid_model" | "unknown_preset" | "invalid_json" | "missing_field" | "unknown_field" | "wrong_type"
  | "invalid_value" | "invalid_timestamp" | "invalid_duration" | "unknown_channel" | "unknown_event_kind"
  | "unknown_identity_kind" | "missing_identity" | "late_event" | "unknown_customer" | "snapshot_version"
  | "corrupt_snapshot" | "model_mismatch" | "capacity_exceeded" | "io_error";
/** A model problem (`invalid_model` errors list them all). */
export interface Problem { path: string; code: string; message: string; }
/** Every error thrown by jornada. */
export interface JornadaError extends Error {
  name: "JornadaError"; code: ErrorCode; path?: string; index?: number; line?: number; problems?: Problem[];
}
"#;

fn outcome(o: &jornada::Outcome) -> Result<JsValue, JsValue> {
    object(&JsOutcome::from(o))
}

/// One visitor's journey: the core's [`Journey`], an engine holding one customer.
#[wasm_bindgen(js_name = Journey)]
pub struct WasmJourney {
    inner: Journey,
}

#[wasm_bindgen(js_class = Journey)]
impl WasmJourney {
    /// An empty journey for a model (a preset name, model JSON text or a model object).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ModelInput")] model: JsValue,
    ) -> Result<WasmJourney, JsValue> {
        Ok(WasmJourney {
            inner: Journey::new(coded(js::model(&model))?),
        })
    }

    /// Adds a touchpoint (`{channel, kind, at, value?, properties?, id?}`, no identity keys) and
    /// returns what it caused.
    #[wasm_bindgen(unchecked_return_type = "Outcome")]
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TouchpointInput")] touchpoint: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = coded(js::json_text(&touchpoint, "touchpoint"))?;
        outcome(&coded(self.inner.push_json(&text))?)
    }

    /// Moves event time forward (never back) and fires the timeouts due by then.
    #[wasm_bindgen(js_name = advanceTo, unchecked_return_type = "Outcome")]
    pub fn advance_to(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Time")] at: JsValue,
    ) -> Result<JsValue, JsValue> {
        let at = coded(js::timestamp(&at, "at"))?;
        outcome(&self.inner.advance_to(at))
    }

    /// Records the visitor's consent for a channel from a time.
    #[wasm_bindgen(js_name = setConsent, unchecked_return_type = "Outcome")]
    pub fn set_consent(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] channel: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean")] granted: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Time")] at: JsValue,
    ) -> Result<JsValue, JsValue> {
        let channel = coded(js::string(&channel, "channel"))?;
        let granted = coded(js::boolean(&granted, "granted"))?;
        let at = coded(js::timestamp(&at, "at"))?;
        outcome(&coded(self.inner.set_consent(&channel, granted, at))?)
    }

    /// The journey scored: stage, progress, probability and expected time to convert (when the
    /// model has a scoring table), next actions, effort.
    #[wasm_bindgen(unchecked_return_type = "Score")]
    pub fn score(&self) -> Result<JsValue, JsValue> {
        object(&JsScore::from(&self.inner.score()))
    }

    /// The visitor as the engine sees them (`null` before anything was recorded).
    #[wasm_bindgen(unchecked_return_type = "Customer | null")]
    pub fn view(&self) -> Result<JsValue, JsValue> {
        match self.inner.view() {
            Some(v) => object(&JsCustomer::from(&v)),
            None => Ok(JsValue::NULL),
        }
    }

    /// The journey's state as text (base64 of the core snapshot), for `localStorage`.
    pub fn save(&self) -> String {
        self.inner.save()
    }

    /// A journey from `save()`'s text; throws `model_mismatch` when it was saved with another
    /// model, `corrupt_snapshot` when the text is damaged.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "ModelInput")] model: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] saved: JsValue,
    ) -> Result<WasmJourney, JsValue> {
        let model = coded(js::model(&model))?;
        let saved = coded(js::string(&saved, "saved"))?;
        Ok(WasmJourney {
            inner: coded(Journey::load(&model, &saved))?,
        })
    }
}

/// The journey engine for many customers (the core's [`Engine`]), as a backend uses it.
#[wasm_bindgen(js_name = Engine)]
pub struct WasmEngine {
    inner: Engine,
}

#[wasm_bindgen(js_class = Engine)]
impl WasmEngine {
    /// An empty engine for a model (a preset name, model JSON text or a model object).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ModelInput")] model: JsValue,
    ) -> Result<WasmEngine, JsValue> {
        Ok(WasmEngine {
            inner: Engine::new(coded(js::model(&model))?),
        })
    }

    /// Ingests one touchpoint (object or JSON text).
    #[wasm_bindgen(unchecked_return_type = "Outcome")]
    pub fn ingest(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TouchpointInput")] touchpoint: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = coded(js::json_text(&touchpoint, "touchpoint"))?;
        outcome(&coded(self.inner.ingest_json(&text))?)
    }

    /// Ingests a batch in one call: every valid touchpoint is applied in order, the others are
    /// listed in `rejected` with their position in the array.
    #[wasm_bindgen(js_name = ingestBatch, unchecked_return_type = "Outcome")]
    pub fn ingest_batch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TouchpointInput[]")] touchpoints: JsValue,
    ) -> Result<JsValue, JsValue> {
        let items = coded(js::array(&touchpoints, "touchpoints"))?;
        // Convert each element; one that does not convert is rejected at its position, the
        // others go to the core as one batch, their indexes mapped back to positions.
        let mut good = Vec::with_capacity(items.len());
        let mut positions = Vec::with_capacity(items.len());
        let mut early = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let tp = js::json_text(item, "touchpoint")
                .and_then(|text| Touchpoint::from_json(self.inner.model(), &text));
            match tp {
                Ok(tp) => {
                    good.push(tp);
                    positions.push(i);
                }
                Err(e) => early.push(Rejected {
                    index: i,
                    error: e.at_index(i),
                }),
            }
        }
        let mut out = self.inner.ingest_batch(&good);
        for r in &mut out.rejected {
            let i = positions.get(r.index).copied().unwrap_or(r.index);
            r.index = i;
            r.error = r.error.clone().at_index(i);
        }
        out.rejected.extend(early);
        out.rejected.sort_by_key(|r| r.index);
        outcome(&out)
    }

    /// Ingests JSON lines (one touchpoint per line, blank lines skipped).
    #[wasm_bindgen(js_name = ingestJsonLines, unchecked_return_type = "Outcome")]
    pub fn ingest_json_lines(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    ) -> Result<JsValue, JsValue> {
        let text = coded(js::string(&text, "text"))?;
        outcome(&self.inner.ingest_json_lines(text.as_bytes()))
    }

    /// Moves event time forward (never back) and fires the timeouts due by then.
    #[wasm_bindgen(js_name = advanceTo, unchecked_return_type = "Outcome")]
    pub fn advance_to(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Time")] at: JsValue,
    ) -> Result<JsValue, JsValue> {
        let at = coded(js::timestamp(&at, "at"))?;
        outcome(&self.inner.advance_to(at))
    }

    /// Records a consent change for a customer and channel from a time.
    #[wasm_bindgen(js_name = setConsent, unchecked_return_type = "Outcome")]
    pub fn set_consent(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] customer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] channel: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean")] granted: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Time")] at: JsValue,
    ) -> Result<JsValue, JsValue> {
        let customer = coded(js::string(&customer, "customer"))?;
        let channel = coded(js::string(&channel, "channel"))?;
        let granted = coded(js::boolean(&granted, "granted"))?;
        let at = coded(js::timestamp(&at, "at"))?;
        outcome(&coded(
            self.inner.set_consent(&customer, &channel, granted, at),
        )?)
    }

    /// Erases a customer and everything about them.
    #[wasm_bindgen(unchecked_return_type = "Erasure")]
    pub fn erase(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] customer: JsValue,
    ) -> Result<JsValue, JsValue> {
        let customer = coded(js::string(&customer, "customer"))?;
        object(&JsErasure::from(&coded(self.inner.erase(&customer))?))
    }

    /// A customer by id (`c1`, or `kind:value`); `null` when unknown.
    #[wasm_bindgen(unchecked_return_type = "Customer | null")]
    pub fn customer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = coded(js::string(&id, "id"))?;
        match self.inner.customer(&id) {
            Some(v) => object(&JsCustomer::from(&v)),
            None => Ok(JsValue::NULL),
        }
    }

    /// A customer's journey scored; `null` when unknown.
    #[wasm_bindgen(unchecked_return_type = "Score | null")]
    pub fn score(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = coded(js::string(&id, "id"))?;
        match self.inner.score(&id) {
            Some(s) => object(&JsScore::from(&s)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Ids of all customers, sorted.
    #[wasm_bindgen(js_name = customerIds)]
    pub fn customer_ids(&self) -> Vec<String> {
        self.inner.customer_ids()
    }

    /// Customers per stage, in stage order.
    #[wasm_bindgen(js_name = stageCounts, unchecked_return_type = "StageCount[]")]
    pub fn stage_counts(&self) -> Result<JsValue, JsValue> {
        object(&shapes::stage_counts(&self.inner.stage_counts()))
    }

    /// The engine's state as bytes (the core snapshot format, model included).
    pub fn snapshot(&self) -> Vec<u8> {
        self.inner.snapshot()
    }

    /// An engine from `snapshot()` bytes.
    pub fn restore(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    ) -> Result<WasmEngine, JsValue> {
        let bytes = coded(js::bytes(&bytes, "bytes"))?;
        Ok(WasmEngine {
            inner: coded(Engine::restore(&bytes))?,
        })
    }
}

/// Every error code with its description: `{code: description}`.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "Record<ErrorCode, string>")]
pub fn error_codes() -> Result<JsValue, JsValue> {
    object(&shapes::catalogue(jornada::error_codes()))
}

/// Every model problem code (found in `invalid_model` errors' `problems`) with its description.
#[wasm_bindgen(js_name = problemCodes, unchecked_return_type = "Record<string, string>")]
pub fn problem_codes() -> Result<JsValue, JsValue> {
    object(&shapes::catalogue(jornada::error::PROBLEM_CODES))
}

/// The names of the bundled models.
#[wasm_bindgen(js_name = presetNames)]
pub fn preset_names() -> Vec<String> {
    jornada::model::presets::NAMES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A bundled model's JSON text (to extend it, e.g. with a scoring table, before use).
#[wasm_bindgen(js_name = presetModel)]
pub fn preset_model(
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
) -> Result<String, JsValue> {
    let name = coded(js::string(&name, "name"))?;
    coded(Model::preset(&name).map(|m| m.to_json()))
}
