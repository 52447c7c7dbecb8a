//! Arrow columns as cells: the integer, float, boolean, string and
//! dictionary-encoded columns a Parquet file holds, read one value at a
//! time as a number, a level or its text, with nulls as missing cells.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, PrimitiveArray};
use arrow_schema::DataType;

/// One value of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell<'a> {
    /// A null: a missing cell.
    Null,
    F64(f64),
    F32(f32),
    I(i64),
    U(u64),
    B(bool),
    S(&'a str),
}

impl Cell<'_> {
    /// The cell as a number: `Ok(None)` when missing, `Err(text)` when it is
    /// text that is not a number.
    pub(super) fn number(self) -> std::result::Result<Option<f64>, String> {
        #[allow(clippy::cast_precision_loss)] // as a CSV reader would round the same digits
        Ok(match self {
            Cell::Null => None,
            Cell::F64(v) if v.is_finite() => Some(v),
            // The shortest decimal that names the f32, as a CSV would hold it.
            Cell::F32(v) if v.is_finite() => format!("{v}").parse().ok(),
            Cell::F64(v) => return Err(format!("{v}")),
            Cell::F32(v) => return Err(format!("{v}")),
            Cell::I(v) => Some(v as f64),
            Cell::U(v) => Some(v as f64),
            Cell::B(b) => Some(if b { 1.0 } else { 0.0 }),
            Cell::S(s) => {
                return super::cell::parse_number(s.as_bytes(), "", 0, "")
                    .map_err(|_| s.to_string());
            }
        })
    }

    /// The cell's text, as a CSV would hold it ("" when missing).
    pub(super) fn write_text(self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            Cell::Null => Ok(()),
            Cell::F64(v) => write!(out, "{v}"),
            Cell::F32(v) => write!(out, "{v}"),
            Cell::I(v) => write!(out, "{v}"),
            Cell::U(v) => write!(out, "{v}"),
            Cell::B(b) => write!(out, "{b}"),
            Cell::S(s) => {
                out.push_str(s);
                Ok(())
            }
        };
    }
}

/// A column of a supported type, read cell by cell.
pub(super) enum Cells<'a> {
    F64(&'a PrimitiveArray<Float64Type>),
    F32(&'a PrimitiveArray<Float32Type>),
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
    Bool(&'a arrow_array::BooleanArray),
    Str(&'a arrow_array::StringArray),
    LargeStr(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    /// Dictionary-encoded: the key of each row into the values.
    Dict {
        keys: Vec<usize>,
        dict: &'a dyn Array,
        values: Box<Cells<'a>>,
    },
}

impl<'a> Cells<'a> {
    /// The cells of `array`, or `Err` with the name of its unsupported type.
    pub(super) fn of(array: &'a dyn Array) -> std::result::Result<Cells<'a>, String> {
        let unsupported = || array.data_type().to_string();
        Ok(match array.data_type() {
            DataType::Float64 => Cells::F64(array.as_primitive()),
            DataType::Float32 => Cells::F32(array.as_primitive()),
            DataType::Int8 => Cells::I8(array.as_primitive()),
            DataType::Int16 => Cells::I16(array.as_primitive()),
            DataType::Int32 => Cells::I32(array.as_primitive()),
            DataType::Int64 => Cells::I64(array.as_primitive()),
            DataType::UInt8 => Cells::U8(array.as_primitive()),
            DataType::UInt16 => Cells::U16(array.as_primitive()),
            DataType::UInt32 => Cells::U32(array.as_primitive()),
            DataType::UInt64 => Cells::U64(array.as_primitive()),
            DataType::Boolean => Cells::Bool(array.as_boolean()),
            DataType::Utf8 => Cells::Str(array.as_string()),
            DataType::LargeUtf8 => Cells::LargeStr(array.as_string()),
            DataType::Utf8View => Cells::View(array.as_string_view()),
            DataType::Dictionary(_, _) => {
                let d = array.as_any_dictionary_opt().ok_or_else(unsupported)?;
                Cells::Dict {
                    keys: d.normalized_keys(),
                    dict: array,
                    values: Box::new(Cells::of(d.values().as_ref())?),
                }
            }
            _ => return Err(unsupported()),
        })
    }

    /// The value of row `i`.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Cell<'a> {
        macro_rules! prim {
            ($a:expr, $v:ident => $e:expr) => {
                if $a.is_null(i) {
                    Cell::Null
                } else {
                    let $v = $a.value(i);
                    $e
                }
            };
        }
        match self {
            Cells::F64(a) => prim!(a, v => Cell::F64(v)),
            Cells::F32(a) => prim!(a, v => Cell::F32(v)),
            Cells::I8(a) => prim!(a, v => Cell::I(i64::from(v))),
            Cells::I16(a) => prim!(a, v => Cell::I(i64::from(v))),
            Cells::I32(a) => prim!(a, v => Cell::I(i64::from(v))),
            Cells::I64(a) => prim!(a, v => Cell::I(v)),
            Cells::U8(a) => prim!(a, v => Cell::U(u64::from(v))),
            Cells::U16(a) => prim!(a, v => Cell::U(u64::from(v))),
            Cells::U32(a) => prim!(a, v => Cell::U(u64::from(v))),
            Cells::U64(a) => prim!(a, v => Cell::U(v)),
            Cells::Bool(a) => prim!(a, v => Cell::B(v)),
            Cells::Str(a) => prim!(a, v => Cell::S(v)),
            Cells::LargeStr(a) => prim!(a, v => Cell::S(v)),
            Cells::View(a) => prim!(a, v => Cell::S(v)),
            Cells::Dict { keys, dict, values } => {
                if dict.is_null(i) {
                    Cell::Null
                } else {
                    values.get(keys[i])
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn cells_read_as_a_csv_would_hold_them() {
        assert_eq!(Cell::F32(0.1).number(), Ok(Some(0.1)));
        assert_eq!(Cell::I(-3).number(), Ok(Some(-3.0)));
        assert_eq!(Cell::B(true).number(), Ok(Some(1.0)));
        assert_eq!(Cell::S(" 2.5 ").number(), Ok(Some(2.5)));
        assert_eq!(Cell::S("").number(), Ok(None));
        assert_eq!(Cell::Null.number(), Ok(None));
        assert_eq!(Cell::S("abc").number(), Err("abc".to_string()));
        assert!(Cell::F64(f64::NAN).number().is_err());
        let mut s = String::new();
        Cell::F64(40.0).write_text(&mut s);
        Cell::U(7).write_text(&mut s);
        Cell::B(false).write_text(&mut s);
        assert_eq!(s, "407false");
    }

    #[test]
    fn dictionary_columns_resolve_keys_and_nulls() {
        let dict: arrow_array::DictionaryArray<arrow_array::types::Int8Type> =
            vec![Some("a"), None, Some("b"), Some("a")]
                .into_iter()
                .collect();
        let array: Arc<dyn Array> = Arc::new(dict);
        let cells = Cells::of(array.as_ref()).unwrap();
        let got: Vec<String> = (0..4)
            .map(|i| match cells.get(i) {
                Cell::S(s) => s.to_string(),
                Cell::Null => "-".to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(got, ["a", "-", "b", "a"]);
        let dates = arrow_array::Date32Array::from(vec![1]);
        assert_eq!(Cells::of(&dates).err().as_deref(), Some("Date32"));
    }
}
