//! A serde `Deserializer` over one row of Arrow columns, so the core reads each row of a table
//! as the touchpoint object `{field: cell, ..., "properties": {name: cell, ...}}` with exactly the
//! rules of its canonical JSON form. Strings are borrowed from the Arrow buffers (no copies).

use crate::arrow_in::{Cell, Col};
use serde::de::value::Error as DeError;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

/// The columns of one record batch, under the touchpoint field names they feed.
pub struct RowFields<'a> {
    /// Top-level fields (`id`, identity kinds, `channel`, `kind`, `at`, `value`).
    pub top: Vec<(&'a str, Col<'a>)>,
    /// Property columns (`properties.<name>`).
    pub props: Vec<(&'a str, Col<'a>)>,
    /// Number of rows.
    pub rows: usize,
}

/// Row `row` of a batch, as a touchpoint object.
pub struct RowDe<'a, 'b> {
    /// The batch's columns.
    pub fields: &'b RowFields<'a>,
    /// The row.
    pub row: usize,
}

impl<'de> Deserializer<'de> for RowDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_map(RowMap {
            cols: &self.fields.top,
            props: (!self.fields.props.is_empty()).then_some(&self.fields.props),
            row: self.row,
            pos: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct RowMap<'a, 'b> {
    cols: &'b [(&'a str, Col<'a>)],
    /// A `properties` entry after the columns, when there are property columns.
    props: Option<&'b Vec<(&'a str, Col<'a>)>>,
    row: usize,
    pos: usize,
}

impl<'de> MapAccess<'de> for RowMap<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if let Some((name, _)) = self.cols.get(self.pos) {
            return seed.deserialize(CellDe(Cell::Str(name))).map(Some);
        }
        if self.pos == self.cols.len() && self.props.is_some() {
            return seed.deserialize(CellDe(Cell::Str("properties"))).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let pos = self.pos;
        self.pos += 1;
        if let Some((_, col)) = self.cols.get(pos) {
            return seed.deserialize(CellDe(col.get(self.row)));
        }
        match self.props {
            Some(props) => seed.deserialize(PropsDe {
                cols: props,
                row: self.row,
            }),
            None => Err(serde::de::Error::custom("value without a key")),
        }
    }
}

struct PropsDe<'a, 'b> {
    cols: &'b [(&'a str, Col<'a>)],
    row: usize,
}

impl<'de> Deserializer<'de> for PropsDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_map(RowMap {
            cols: self.cols,
            props: None,
            row: self.row,
            pos: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// One cell.
struct CellDe<'a>(Cell<'a>);

impl<'de> Deserializer<'de> for CellDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.0 {
            Cell::Null => v.visit_unit(),
            Cell::Str(s) => v.visit_borrowed_str(s),
            Cell::I64(i) => v.visit_i64(i),
            Cell::U64(u) => v.visit_u64(u),
            Cell::F64(f) => v.visit_f64(f),
            Cell::Bool(b) => v.visit_bool(b),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
