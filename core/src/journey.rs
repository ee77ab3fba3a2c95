//! One visitor's journey: an [`Engine`] holding exactly one customer, for a browser page or an
//! app that follows the person using it. The same engine as a backend's, so the same model gives
//! the same stages and actions; touchpoints name no customer (the journey is the customer) and
//! the state saves to a string (the engine's snapshot in base64, for `localStorage`).
//!
//! ```
//! use jornada::{Journey, Model, Timestamp};
//! let model = Model::preset("ecommerce")?;
//! let mut journey = Journey::new(model.clone());
//! journey.push_json(r#"{"channel": "web", "kind": "add_to_cart", "at": "2026-03-01T10:00:00Z"}"#)?;
//! assert_eq!(journey.score().stage.as_deref(), Some("cart"));
//!
//! let saved: String = journey.save();
//! let mut again = Journey::load(&model, &saved)?;
//! let out = again.advance_to(Timestamp::parse("2026-03-01T11:00:00Z").unwrap());
//! assert_eq!(&*out.actions[0].action, "abandoned_cart_sms");
//!
//! let other = Model::preset("seven_phase")?;
//! assert_eq!(Journey::load(&other, &saved).unwrap_err().code(), "model_mismatch");
//! # Ok::<(), jornada::Error>(())
//! ```

use crate::error::{Error, Location, Result};
use crate::{CustomerView, Engine, Model, Outcome, Score, Timestamp};

/// The key value naming a journey's customer, under the model's first identity kind.
pub const JOURNEY_CUSTOMER: &str = "visitor";

/// One visitor's journey. See the [module docs](self).
#[derive(Debug)]
pub struct Journey {
    engine: Engine,
}

impl Journey {
    /// An empty journey for a model.
    pub fn new(model: Model) -> Journey {
        Journey {
            engine: Engine::new(model),
        }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.engine.model()
    }

    /// The engine underneath (one customer, [`JOURNEY_CUSTOMER`]).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Adds a touchpoint in its canonical JSON form without identity keys (`{"channel", "kind",
    /// "at", ...}`): the journey names its customer itself. A touchpoint naming any identity
    /// kind is refused with `invalid_value` at that field.
    pub fn push_json(&mut self, json: &str) -> Result<Outcome> {
        let mut value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::InvalidJson {
                loc: Location::default(),
                message: e.to_string(),
            })?;
        let Some(map) = value.as_object_mut() else {
            // Not an object: the engine's parser says what is wrong, as for any touchpoint.
            return self.engine.ingest_json(json);
        };
        let kinds: Vec<&str> = self.engine.model().identity_kind_names().collect();
        if let Some(kind) = kinds.iter().find(|k| map.contains_key(**k)) {
            return Err(Error::InvalidValue {
                loc: Location::field(*kind),
                message: "a journey's touchpoints name no customer: the journey is one visitor"
                    .into(),
            });
        }
        map.insert(kinds[0].to_string(), JOURNEY_CUSTOMER.into());
        self.engine.ingest_json(&value.to_string())
    }

    /// Moves event time forward (never backward) and fires the timeouts due by then.
    pub fn advance_to(&mut self, t: Timestamp) -> Outcome {
        self.engine.advance_to(t)
    }

    /// Records the visitor's consent for a channel from an event time.
    pub fn set_consent(&mut self, channel: &str, granted: bool, at: Timestamp) -> Result<Outcome> {
        self.engine
            .set_consent(JOURNEY_CUSTOMER, channel, granted, at)
    }

    /// The visitor as the engine sees them; `None` before anything was recorded.
    pub fn view(&self) -> Option<CustomerView> {
        self.engine.customer(JOURNEY_CUSTOMER)
    }

    /// The journey scored (see [`Score`]); [`Score::default`] before the first touchpoint.
    pub fn score(&self) -> Score {
        self.engine.score(JOURNEY_CUSTOMER).unwrap_or_default()
    }

    /// The journey's state: the engine's snapshot bytes (model included).
    pub fn snapshot(&self) -> Vec<u8> {
        self.engine.snapshot()
    }

    /// Rebuilds a journey from [`snapshot`](Self::snapshot) bytes, checking that they were saved
    /// with `model` (`model_mismatch` otherwise) and hold one journey (`corrupt_snapshot`).
    pub fn restore(model: &Model, bytes: &[u8]) -> Result<Journey> {
        let engine = Engine::restore(bytes)?;
        if engine.model() != model {
            return Err(Error::ModelMismatch {
                message: format!(
                    "the saved journey was made with model `{}` and differs from the model `{}` given",
                    engine.model().name(),
                    model.name()
                ),
            });
        }
        if engine.len() > 1 || (engine.len() == 1 && engine.customer(JOURNEY_CUSTOMER).is_none()) {
            return Err(Error::CorruptSnapshot {
                message: "not a journey: it holds other customers".into(),
            });
        }
        Ok(Journey { engine })
    }

    /// The journey's state as text: the [`snapshot`](Self::snapshot) in standard base64 with
    /// padding, safe for `localStorage` and cookies-free storage of any kind.
    pub fn save(&self) -> String {
        base64::encode(&self.snapshot())
    }

    /// Rebuilds a journey from [`save`](Self::save)'s text (`corrupt_snapshot` when it is not
    /// base64; see [`restore`](Self::restore) for the other checks).
    pub fn load(model: &Model, text: &str) -> Result<Journey> {
        let bytes = base64::decode(text.trim()).ok_or_else(|| Error::CorruptSnapshot {
            message: "saved journey is not base64 text".into(),
        })?;
        Journey::restore(model, &bytes)
    }
}

/// Standard base64 (RFC 4648, `+/`, `=` padding).
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    /// Value of each byte in the alphabet; 255 for bytes outside it.
    const VALUE: [u8; 256] = {
        let mut t = [255u8; 256];
        let mut i = 0;
        while i < 64 {
            t[ALPHABET[i] as usize] = i as u8;
            i += 1;
        }
        t
    };

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let b = text.as_bytes();
        if b.len() % 4 != 0 {
            return None;
        }
        let mut out = Vec::with_capacity(b.len() / 4 * 3);
        for (ci, chunk) in b.chunks(4).enumerate() {
            let last = ci + 1 == b.len() / 4;
            let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &chunk[..4 - pad] {
                let v = VALUE[c as usize];
                if v == 255 {
                    return None;
                }
                n = n << 6 | v as u32;
            }
            n <<= 6 * pad as u32;
            let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&got[..3 - pad]);
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn rfc4648_vectors() {
            let cases = [
                ("", ""),
                ("f", "Zg=="),
                ("fo", "Zm8="),
                ("foo", "Zm9v"),
                ("foob", "Zm9vYg=="),
                ("fooba", "Zm9vYmE="),
                ("foobar", "Zm9vYmFy"),
            ];
            for (plain, coded) in cases {
                assert_eq!(encode(plain.as_bytes()), coded);
                assert_eq!(decode(coded).as_deref(), Some(plain.as_bytes()));
            }
            let all: Vec<u8> = (0..=255).collect();
            assert_eq!(decode(&encode(&all)), Some(all));
        }

        #[test]
        fn rejects_what_is_not_base64() {
            for bad in ["Zg=", "Zg=a", "Z===", "Zg==Zg==", "Zm9v!A==", "é"] {
                assert_eq!(decode(bad), None, "{bad}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecommerce() -> Model {
        Model::preset("ecommerce").unwrap()
    }

    #[test]
    fn touchpoints_name_no_customer() {
        let mut j = Journey::new(ecommerce());
        let e = j
            .push_json(r#"{"email": "a@b.c", "channel": "web", "kind": "search", "at": 0}"#)
            .unwrap_err();
        assert_eq!((e.code(), e.path()), ("invalid_value", Some("email")));
        let e = j
            .push_json(r#"{"channel": "web", "kind": "search", "at": 0"#)
            .unwrap_err();
        assert_eq!(e.code(), "invalid_json");
        let e = j.push_json("[1, 2]").unwrap_err();
        assert_eq!(e.code(), "invalid_json");
        let e = j
            .push_json(r#"{"channel": "fax", "kind": "search", "at": 0}"#)
            .unwrap_err();
        assert_eq!((e.code(), e.path()), ("unknown_channel", Some("channel")));
        assert_eq!(j.score(), Score::default());
        j.push_json(r#"{"channel": "web", "kind": "search", "at": 0}"#)
            .unwrap();
        let view = j.view().unwrap();
        assert_eq!(view.id, JOURNEY_CUSTOMER);
        assert_eq!(view.stage.as_deref(), Some("browsing"));
        assert_eq!(j.engine().len(), 1);
    }

    #[test]
    fn save_and_load() {
        let mut j = Journey::new(ecommerce());
        j.push_json(r#"{"channel": "web", "kind": "add_to_cart", "at": 1000}"#)
            .unwrap();
        j.set_consent("sms", true, Timestamp(0)).unwrap();
        let saved = j.save();
        let k = Journey::load(&ecommerce(), &saved).unwrap();
        assert_eq!(k.view(), j.view());
        assert_eq!(k.score(), j.score());
        // Damaged text or bytes, another model, a foreign engine: coded errors.
        let code = |text: &str| Journey::load(&ecommerce(), text).unwrap_err().code();
        assert_eq!(code("not base64!"), "corrupt_snapshot");
        assert_eq!(code(""), "corrupt_snapshot");
        assert_eq!(code(&saved[..saved.len() - 8]), "corrupt_snapshot");
        let mut bytes = j.snapshot();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            Journey::restore(&ecommerce(), &bytes).unwrap_err().code(),
            "corrupt_snapshot"
        );
        let other = Model::preset("five_stage_loyalty").unwrap();
        assert_eq!(
            Journey::load(&other, &saved).unwrap_err().code(),
            "model_mismatch"
        );
        let mut engine = Engine::new(ecommerce());
        engine
            .ingest_json(r#"{"customer_id": "c1", "channel": "web", "kind": "search", "at": 0}"#)
            .unwrap();
        assert_eq!(
            Journey::restore(&ecommerce(), &engine.snapshot())
                .unwrap_err()
                .code(),
            "corrupt_snapshot"
        );
    }
}
