//! One row into the totals, whatever the format: the variant looked up (or
//! added), the metric and covariate cells parsed and checked, and the row
//! added to its arm or, under `--unit`, to its unit. Errors name the place
//! (`origin:line: column "..."`).

use crate::abtest::settings::{Kind, Settings};
use crate::abtest::totals::{ExperimentTotals, UnitTotals};
use crate::data::parse_number;
use crate::error::{Error, Result};

/// At most this many distinct variants.
const MAX_VARIANTS: usize = 1000;

/// The column of an export holding the planned share of the row's variant.
pub(crate) const PLAN_COLUMN: &str = "planned_share";
/// The column of an export naming the row's experiment.
pub(crate) const EXPERIMENT_COLUMN: &str = "experiment";

/// The cells of one row, whatever the format.
pub(super) struct Cells<'a> {
    /// The variant name.
    pub(super) variant: &'a [u8],
    /// The metric.
    pub(super) y: &'a [u8],
    /// The covariate, when one is asked for.
    pub(super) x: Option<&'a [u8]>,
    /// The unit, when one is asked for.
    pub(super) unit: Option<&'a [u8]>,
    /// The planned share, when the input has the column and it is read.
    pub(super) share: Option<&'a [u8]>,
    /// The experiment, when the input has the column and it is read.
    pub(super) experiment: Option<&'a [u8]>,
}

/// What every row parser needs.
pub(super) struct RowParser<'a> {
    /// The input as errors name it.
    pub(super) origin: &'a str,
    /// The settings.
    pub(super) s: &'a Settings,
    /// Keep every value (Mann–Whitney).
    pub(super) keep_values: bool,
}

impl RowParser<'_> {
    fn variant_index(
        &self,
        totals: &mut ExperimentTotals,
        name: &[u8],
        line: u64,
    ) -> Result<usize> {
        if let Some(i) = totals.names.iter().position(|n| n == name) {
            return Ok(i);
        }
        let text = std::str::from_utf8(name).map_err(|_| {
            Error::data(format!(
                "{}:{line}: column \"{}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
                self.origin, self.s.variant_column
            ))
        })?;
        if text.trim().is_empty() {
            return Err(Error::data(format!(
                "{}:{line}: column \"{}\" is empty; every row needs its variant",
                self.origin, self.s.variant_column
            )));
        }
        if totals.names.len() >= MAX_VARIANTS {
            return Err(Error::data(format!(
                "{}:{line}: column \"{}\" has more than {MAX_VARIANTS} distinct variants; is --variant-column the right column?",
                self.origin, self.s.variant_column
            )));
        }
        Ok(totals.index(name.to_vec()))
    }

    fn metric(&self, cell: &[u8], line: u64) -> Result<f64> {
        let col = &self.s.metric;
        if self.s.kind == Kind::Binary {
            let t = cell.trim_ascii();
            match t {
                b"1" | b"true" | b"True" | b"TRUE" => return Ok(1.0),
                b"0" | b"false" | b"False" | b"FALSE" => return Ok(0.0),
                _ => {}
            }
            let v = parse_number(t, self.origin, line, col).ok().flatten();
            return match v {
                Some(v) if v == 0.0 || v == 1.0 => Ok(v),
                _ if t.is_empty() => Err(self.empty(line, col)),
                _ => Err(Error::data(format!(
                    "{}:{line}: column \"{col}\": \"{}\" is not 0/1 or true/false; fix the cell, or use --kind continuous",
                    self.origin,
                    String::from_utf8_lossy(t)
                ))),
            };
        }
        match parse_number(cell, self.origin, line, col) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.empty(line, col)),
            Err(e) => Err(e),
        }
    }

    fn empty(&self, line: u64, col: &str) -> Error {
        Error::data(format!(
            "{}:{line}: column \"{col}\" is empty; fill it or remove the row",
            self.origin
        ))
    }

    /// The planned share and the experiment a row carries (columns of a
    /// server's export, read when present and no `--split` is given).
    fn plan(
        &self,
        totals: &mut ExperimentTotals,
        v: usize,
        cells: &Cells<'_>,
        line: u64,
    ) -> Result<()> {
        if let Some(c) = cells.share {
            let share = parse_number(c, self.origin, line, PLAN_COLUMN)?;
            if let Some(x) = share
                && !(0.0..=1.0).contains(&x)
            {
                return Err(Error::data(format!(
                    "{}:{line}: column \"{PLAN_COLUMN}\": {x} is not a share from 0 to 1; fix the cell, or pass --split",
                    self.origin
                )));
            }
            totals.shares[v].push(share);
        }
        if let Some(c) = cells.experiment {
            let c = c.trim_ascii();
            totals.experiments.push((!c.is_empty()).then(|| c.to_vec()));
        }
        Ok(())
    }

    /// One row.
    #[inline]
    pub(super) fn row(
        &self,
        totals: &mut ExperimentTotals,
        cells: &Cells<'_>,
        line: u64,
    ) -> Result<()> {
        let v = self.variant_index(totals, cells.variant.trim_ascii(), line)?;
        let y = self.metric(cells.y, line)?;
        let x = match (cells.x, &self.s.covariate) {
            (Some(c), Some(col)) => match parse_number(c, self.origin, line, col)? {
                Some(x) => Some(x),
                None => return Err(self.empty(line, col)),
            },
            _ => None,
        };
        self.plan(totals, v, cells, line)?;
        let unit = cells.unit;
        totals.rows += 1;
        match unit {
            None => totals.arms[v].push(y, x, self.keep_values),
            Some(u) => {
                let u = u.trim_ascii();
                if u.is_empty() {
                    let col = self.s.unit.as_deref().unwrap_or("unit");
                    return Err(self.empty(line, col));
                }
                match totals.units.get_mut(u) {
                    Some(e) => {
                        if e.variant != v {
                            return Err(Error::data(format!(
                                "{}:{line}: unit \"{}\" is in variant \"{}\" here but in \"{}\" on line {}; a unit must stay in one variant (check the assignment)",
                                self.origin,
                                String::from_utf8_lossy(u),
                                String::from_utf8_lossy(&totals.names[v]),
                                String::from_utf8_lossy(&totals.names[e.variant]),
                                e.line
                            )));
                        }
                        if self.s.kind == Kind::Binary {
                            e.y = e.y.max(y);
                        } else {
                            e.y += y;
                        }
                        e.x += x.unwrap_or(0.0);
                    }
                    None => {
                        totals.units.insert(
                            u.to_vec(),
                            UnitTotals {
                                variant: v,
                                y,
                                x: x.unwrap_or(0.0),
                                line,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}
