//! JSON request bodies read field by field, so one 422 lists every problem:
//! values of the wrong type, missing and unknown fields, then what the
//! domain rules find in whatever did parse. The body is only judged when a
//! handler asks ([`JsonBody::check`]), after its lookups, so an unknown
//! application is a 404 whatever the body holds.
//!
//! A field given with the wrong type reads as its type's default, so rules
//! that depend on whether a field was given still see it as given; the rules'
//! verdict on such a field is dropped (see [`FieldErrors::absorb`]).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::extract::json_value;
use crate::domain::validate::FieldErrors;

/// A request type read from a JSON object.
pub trait FromBody: Sized {
    fn from_body(fields: &mut Fields<'_>) -> Self;
}

/// A JSON object being read: each read names its field, problems are kept
/// under the field's path (`files[1].size`), and a field no read asked for
/// is reported as unknown once the object has been read.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
    asked: Vec<&'static str>,
    problems: &'a mut FieldErrors,
}

impl<'a> Fields<'a> {
    /// Reads `T` from `object`, then reports every field it did not ask for.
    fn read<T: FromBody>(
        object: &'a Map<String, Value>,
        prefix: String,
        problems: &'a mut FieldErrors,
    ) -> T {
        let mut fields = Fields {
            object,
            prefix,
            asked: Vec::new(),
            problems,
        };
        let value = T::from_body(&mut fields);
        for name in fields.object.keys() {
            if !fields.asked.contains(&name.as_str()) {
                let path = format!("{}{name}", fields.prefix);
                fields.problems.add(path, "unknown field");
            }
        }
        value
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The field's value; `null` counts as absent.
    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.asked.push(name);
        self.object.get(name).filter(|v| !v.is_null())
    }

    /// A field that must be given: the default when it is missing or wrong.
    pub fn required<T: FieldType + Default>(&mut self, name: &'static str) -> T {
        match self.get(name) {
            Some(value) => T::read(value, &self.path(name), self.problems).unwrap_or_default(),
            None => {
                self.problems.add(self.path(name), "is required");
                T::default()
            }
        }
    }

    /// A field that may be left out; given with the wrong type it reads as
    /// `Some(default)`.
    pub fn optional<T: FieldType + Default>(&mut self, name: &'static str) -> Option<T> {
        let value = self.get(name)?;
        Some(T::read(value, &self.path(name), self.problems).unwrap_or_default())
    }

    /// A nested object that may be left out; when it is not an object, its
    /// stand-in is read from an empty one.
    pub fn object<T: FromBody>(&mut self, name: &'static str) -> Option<T> {
        let value = self.get(name)?;
        let path = self.path(name);
        Some(read_object(value, path, self.problems))
    }

    /// A list of objects that may be left out; an item that is not an
    /// object keeps its place (so later items keep their index) as a
    /// stand-in read from an empty object.
    pub fn objects<T: FromBody>(&mut self, name: &'static str) -> Option<Vec<T>> {
        let value = self.get(name)?;
        let path = self.path(name);
        let Some(items) = value.as_array() else {
            self.problems.add(path, "must be a list");
            return Some(Vec::new());
        };
        let read = items
            .iter()
            .enumerate()
            .map(|(index, item)| read_object(item, format!("{path}[{index}]"), self.problems))
            .collect();
        Some(read)
    }

    /// A list of objects that must be given.
    pub fn required_objects<T: FromBody>(&mut self, name: &'static str) -> Vec<T> {
        let read = self.objects(name);
        read.unwrap_or_else(|| {
            self.problems.add(self.path(name), "is required");
            Vec::new()
        })
    }
}

fn read_object<T: FromBody>(value: &Value, path: String, problems: &mut FieldErrors) -> T {
    match value.as_object() {
        Some(object) => Fields::read(object, format!("{path}."), problems),
        None => {
            problems.add(path, "must be an object");
            Fields::read(&Map::new(), String::new(), &mut FieldErrors::default())
        }
    }
}

/// A field's value type, read from JSON without stopping at the first
/// problem.
pub trait FieldType: Sized {
    /// `value` as `Self`, or `None` with what is wrong recorded under `path`.
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self>;
}

/// `parsed`, or the plain-words problem `expected` recorded under `path`.
fn expect<T>(
    parsed: Option<T>,
    expected: &str,
    path: &str,
    problems: &mut FieldErrors,
) -> Option<T> {
    if parsed.is_none() {
        problems.add(path, expected);
    }
    parsed
}

impl FieldType for String {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        let text = value.as_str().map(str::to_string);
        expect(text, "must be a string", path, problems)
    }
}

impl FieldType for bool {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        expect(value.as_bool(), "must be true or false", path, problems)
    }
}

impl FieldType for u64 {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        let number = value.as_u64();
        expect(number, "must be a non-negative integer", path, problems)
    }
}

impl FieldType for i64 {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        expect(value.as_i64(), "must be an integer", path, problems)
    }
}

impl FieldType for DateTime<Utc> {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        let time = value.as_str().and_then(|text| text.parse().ok());
        expect(
            time,
            "must be an RFC 3339 date and time, such as 2026-01-31T12:00:00Z",
            path,
            problems,
        )
    }
}

/// Items that do not read are left out, each reported under its index.
impl<T: FieldType> FieldType for Vec<T> {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        let items = expect(value.as_array(), "must be a list", path, problems)?;
        let read = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| T::read(item, &format!("{path}[{index}]"), problems))
            .collect();
        Some(read)
    }
}

impl FieldType for BTreeMap<String, String> {
    fn read(value: &Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        let entries = value.as_object().and_then(|object| {
            object
                .iter()
                .map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        });
        expect(
            entries,
            "must be an object whose values are strings",
            path,
            problems,
        )
    }
}

/// A JSON body as read, with the problems found reading it; nothing is
/// refused until a handler calls [`JsonBody::check`].
pub struct JsonBody<T> {
    /// `None` when the body is not a JSON object.
    value: Option<T>,
    problems: FieldErrors,
}

impl<S: Send + Sync, T: FromBody> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = json_value(request, state).await?;
        let mut problems = FieldErrors::default();
        let value = match body.as_object() {
            Some(object) => Some(Fields::read(object, String::new(), &mut problems)),
            None => {
                problems.add("body", "must be a JSON object");
                None
            }
        };
        Ok(Self { value, problems })
    }
}

impl<T> JsonBody<T> {
    /// What was read, when the body is an object.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// Runs `rules` over what was read and reports the body's problems and
    /// the rules' together; the rules do not run when the body is not an
    /// object at all.
    pub fn check<U>(
        self,
        rules: impl FnOnce(T) -> Result<U, FieldErrors>,
    ) -> Result<U, FieldErrors> {
        let Some(value) = self.value else {
            return Err(self.problems);
        };
        let mut problems = self.problems;
        match rules(value) {
            Ok(checked) => problems.into_result(checked),
            Err(found) => {
                problems.absorb(found);
                Err(problems)
            }
        }
    }

    /// The body when it read without a problem. For handlers whose rules
    /// run only as part of storing, so cannot run on a body with problems.
    pub fn read(self) -> Result<T, ApiError> {
        self.check(Ok).map_err(ApiError::validation)
    }
}
