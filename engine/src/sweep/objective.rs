//! What "best" means: an objective metric with a direction, and constraints a result must meet.
//!
//! Metrics are named as in the JSON of [`Metrics`] (`sharpeRatio`, `tradeCount`, ...). The list
//! of valid names is read from the struct's own serde field list, so a metric added to
//! [`Metrics`] is sweepable at once and no copy of the names can drift.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Serialize;

use super::SweepError;
use crate::Metrics;

/// Maximise or minimise the objective.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Higher is better (the default).
    #[default]
    Max,
    /// Lower is better, e.g. for `maxDrawdown`.
    Min,
}

/// The metric to optimise. Results whose metric is `null` never win. Build it with
/// [`Objective::new`], which checks the name (a hand-built one naming no metric ranks nothing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    /// A [`Metrics`] field as its JSON spells it, e.g. `sharpeRatio`.
    pub metric: String,
    /// Whether higher or lower values win.
    pub direction: Direction,
}

impl Objective {
    /// Checks that `metric` is a field of [`Metrics`].
    pub fn new(metric: &str, direction: Direction) -> Result<Objective, SweepError> {
        check_metric(metric)?;
        Ok(Objective {
            metric: metric.to_string(),
            direction,
        })
    }

    /// Parses `metric`, `metric:max` or `metric:min` (the form [`Display`](std::fmt::Display)
    /// writes), e.g. `sharpeRatio:max`.
    pub fn parse(text: &str) -> Result<Objective, SweepError> {
        let (metric, direction) = match text.rsplit_once(':') {
            None => (text, Direction::Max),
            Some((m, "max")) => (m, Direction::Max),
            Some((m, "min")) => (m, Direction::Min),
            Some((_, other)) => {
                return Err(SweepError::Objective {
                    text: text.to_string(),
                    problem: format!("direction `{other}` is neither `max` nor `min`"),
                })
            }
        };
        Objective::new(metric.trim(), direction)
    }

    /// Orders two ranked combinations, each `(objective value, combination index)`, best
    /// first; equal values go to the lower index. The one order of a sweep's results:
    /// [`SweepResult::top`](super::SweepResult::top) and its `best_result` rank by it, and so
    /// must anything else that ranks a sweep's rows (a server's ranked pages of stored rows).
    pub fn rank(&self, a: (f64, usize), b: (f64, usize)) -> std::cmp::Ordering {
        let by_value = match self.direction {
            Direction::Max => b.0.total_cmp(&a.0),
            Direction::Min => a.0.total_cmp(&b.0),
        };
        by_value.then(a.1.cmp(&b.1))
    }
}

impl Default for Objective {
    /// `sharpeRatio`, maximised.
    fn default() -> Self {
        Objective {
            metric: "sharpeRatio".to_string(),
            direction: Direction::Max,
        }
    }
}

impl std::fmt::Display for Objective {
    /// `metric:max` or `metric:min`, read back by [`Objective::parse`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = match self.direction {
            Direction::Max => "max",
            Direction::Min => "min",
        };
        write!(f, "{}:{dir}", self.metric)
    }
}

/// Comparison operator of a [`Constraint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// The metric is at least the value (`>=`).
    #[serde(rename = ">=")]
    Ge,
    /// The metric is above the value (`>`).
    #[serde(rename = ">")]
    Gt,
    /// The metric is at most the value (`<=`).
    #[serde(rename = "<=")]
    Le,
    /// The metric is below the value (`<`).
    #[serde(rename = "<")]
    Lt,
    /// The metric equals the value exactly (`==`).
    #[serde(rename = "==")]
    Eq,
}

/// `metric op value`, e.g. `tradeCount >= 30`. A `null` metric fails every constraint.
/// Build it with [`Constraint::parse`], which checks the metric name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    /// A [`Metrics`] field as its JSON spells it, e.g. `tradeCount`.
    pub metric: String,
    /// How the metric is compared with `value`.
    pub op: Op,
    /// The bound, in the metric's own units (dollars, a count, a fraction...), finite.
    pub value: f64,
}

impl Constraint {
    /// Parses `"metric op number"` with op one of `>= > <= < ==`.
    pub fn parse(text: &str) -> Result<Constraint, SweepError> {
        let bad = |problem: &str| SweepError::Constraint {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        // Two-character operators first, so `>=` is not read as `>` followed by `=`.
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (at, sym, op) = ops
            .iter()
            .find_map(|&(sym, op)| text.find(sym).map(|at| (at, sym, op)))
            .ok_or_else(|| bad("expected `metric op number` with op one of >= > <= < =="))?;
        let metric = text[..at].trim();
        let number = text[at + sym.len()..].trim();
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(&format!("`{number}` is not a number")))?;
        check_metric(metric)?;
        Ok(Constraint {
            metric: metric.to_string(),
            op,
            value,
        })
    }

    /// Whether a metric value meets the constraint (`None` never does).
    pub(crate) fn holds(&self, x: Option<f64>) -> bool {
        let Some(x) = x else { return false };
        match self.op {
            Op::Ge => x >= self.value,
            Op::Gt => x > self.value,
            Op::Le => x <= self.value,
            Op::Lt => x < self.value,
            Op::Eq => x == self.value,
        }
    }
}

impl std::fmt::Display for Constraint {
    /// `metric>=value` with the shortest exact number, read back by [`Constraint::parse`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
        };
        write!(f, "{}{op}{}", self.metric, self.value)
    }
}

/// The objective and constraints of a sweep. Default: maximise `sharpeRatio`, no constraints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SweepSpec {
    /// The metric that ranks the results, and its direction.
    pub objective: Objective,
    /// Every constraint a result must meet to be ranked.
    pub constraints: Vec<Constraint>,
}

/// The metric names a sweep accepts, in [`Metrics`] field order (the camelCase JSON names).
pub fn metric_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut fields: &'static [&'static str] = &[];
        // The derive hands its field list to `deserialize_struct`; we keep it and stop there.
        let _ = Metrics::deserialize(FieldNames(&mut fields));
        fields
    })
}

/// The value of metric `name` (a name from [`metric_names`]); `None` for `null` or unknown.
pub fn metric_value(metrics: &Metrics, name: &str) -> Option<f64> {
    lookup(&serde_json::to_value(metrics).ok()?, name)
}

/// Metric `name` of metrics already turned into JSON, so one row is serialized only once.
pub(crate) fn lookup(metrics: &serde_json::Value, name: &str) -> Option<f64> {
    metrics.get(name)?.as_f64()
}

pub(crate) fn check_metric(name: &str) -> Result<(), SweepError> {
    if metric_names().contains(&name) {
        Ok(())
    } else {
        Err(SweepError::UnknownMetric {
            name: name.to_string(),
            valid: metric_names().iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// A deserializer that deserializes nothing: it records the field list a struct asks for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("field-name probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field-name probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
