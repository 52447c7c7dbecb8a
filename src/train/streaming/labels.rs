//! A classifier's labels on the streaming path. Pass 1 reads the target as
//! labels ([`labels::take_target`]), gives each distinct label a provisional
//! index in order of appearance (the spill keeps that index as the target),
//! and counts the training rows of each; at the end of pass 1 the classes
//! are the training rows' labels, sorted as the in-memory path sorts them,
//! and every later pass maps the provisional indices to the classes'.

use std::collections::HashMap;

use crate::data::{Table, labels};
use crate::error::{Error, Result};
use crate::project::ModelSection;
use crate::train::memory::classify::check_classes;

/// The labels met so far, and after pass 1 the classes.
#[derive(Debug, Default)]
pub(super) struct LabelSet {
    target: String,
    index: HashMap<String, usize>,
    names: Vec<String>,
    /// Training rows per provisional index.
    train: Vec<u64>,
    /// The first validation row of a label not (yet) met in training rows:
    /// its global row, file and line.
    first_valid: Vec<Option<(u64, String, u64)>>,
    /// After [`LabelSet::classes`]: each provisional index's class.
    class_of: Vec<usize>,
    pub classes: Vec<String>,
}

impl LabelSet {
    /// No labels yet, of the target column `target`.
    pub fn new(target: &str) -> LabelSet {
        LabelSet {
            target: target.to_string(),
            ..LabelSet::default()
        }
    }

    /// Take the labels out of block `t`'s features and set its target to
    /// each label's provisional index (NaN when missing).
    pub fn take(&mut self, t: &mut Table) -> Result<()> {
        let (codes, labels) = labels::take_target_codes(t, &self.target)?;
        // Each of the block's labels looked up once, when its first row
        // comes (so indices still follow the order of appearance).
        let mut ids: Vec<Option<usize>> = vec![None; labels.len()];
        for (y, &c) in t.target.iter_mut().zip(&codes) {
            let Some(slot) = ids.get_mut(c as usize) else {
                continue;
            };
            let id = *slot.get_or_insert_with(|| self.id_of(&labels[c as usize]));
            #[allow(clippy::cast_precision_loss)]
            {
                *y = id as f64;
            }
        }
        Ok(())
    }

    /// The provisional index of `label`, a new one if it is new.
    fn id_of(&mut self, label: &str) -> usize {
        if let Some(&id) = self.index.get(label) {
            return id;
        }
        let id = self.names.len();
        self.index.insert(label.to_string(), id);
        self.names.push(label.to_string());
        self.train.push(0);
        self.first_valid.push(None);
        id
    }

    /// Count the roles of block `t`'s rows (whose first row is global row
    /// `row0`): `role` 1 training, 2 validation; refuse more training
    /// classes than `max` (before they grow further).
    pub fn count(
        &mut self,
        t: &Table,
        role: &[u8],
        row0: u64,
        max: u64,
        origin: &str,
    ) -> Result<()> {
        for (i, (&y, &r)) in t.target.iter().zip(role).enumerate() {
            if y.is_nan() {
                continue;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let id = y as usize;
            match r {
                1 => {
                    if self.train[id] == 0 {
                        let k = self.train.iter().filter(|&&c| c > 0).count() as u64;
                        if k >= max {
                            return Err(Error::data(format!(
                                "{origin}: target \"{}\" has more than {max} classes in the training rows, more than model.max_classes = {max}; is it the right column? raise model.max_classes if so",
                                self.target
                            )));
                        }
                    }
                    self.train[id] += 1;
                }
                2 if self.first_valid[id].is_none() => {
                    self.first_valid[id] =
                        Some((row0 + i as u64, t.origin_of(i).to_string(), t.lines[i]));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The classes (the training rows' labels, sorted) and their counts,
    /// with the in-memory path's checks: two classes at least, at most
    /// `model.max_classes`, two for `logistic`, and no class met only in
    /// validation rows (an error naming its first row's file and line).
    pub fn classes(&mut self, m: &ModelSection, origin: &str) -> Result<Vec<u64>> {
        let seen: Vec<String> = (0..self.names.len())
            .filter(|&i| self.train[i] > 0)
            .map(|i| self.names[i].clone())
            .collect();
        self.classes = check_classes(seen, m, origin, &self.target)?;
        let position: HashMap<&str, usize> = self
            .classes
            .iter()
            .enumerate()
            .map(|(c, l)| (l.as_str(), c))
            .collect();
        self.class_of = self
            .names
            .iter()
            .map(|l| position.get(l.as_str()).copied().unwrap_or(usize::MAX))
            .collect();
        let only_valid = (0..self.names.len())
            .filter(|&i| self.train[i] == 0)
            .filter_map(|i| self.first_valid[i].as_ref().map(|f| (f, i)))
            .min_by_key(|(f, _)| f.0);
        if let Some(((_, file, line), i)) = only_valid {
            return Err(self.only_in_validation(file, *line, &self.names[i]));
        }
        let mut counts = vec![0u64; self.classes.len()];
        for (id, &c) in self.class_of.iter().enumerate() {
            if c != usize::MAX {
                counts[c] = self.train[id];
            }
        }
        Ok(counts)
    }

    /// The in-memory path's message for a class met only in validation rows.
    fn only_in_validation(&self, file: &str, line: u64, label: &str) -> Error {
        Error::data(format!(
            "{file}:{line}: column \"{}\": class \"{label}\" appears only in validation rows (training classes: {}); add training rows with it, or change split.seed",
            self.target,
            self.classes.join(", ")
        ))
    }

    /// The class of provisional index `id` (after [`LabelSet::classes`];
    /// `usize::MAX` for a label met only in validation rows).
    pub fn class_of(&self, id: usize) -> usize {
        self.class_of.get(id).copied().unwrap_or(usize::MAX)
    }

    /// Set the target of a block read back from the spill (provisional
    /// indices) to class indices.
    pub fn remap(&self, t: &mut Table) {
        for y in &mut t.target {
            if !y.is_nan() {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let c = self.class_of[*y as usize];
                #[allow(clippy::cast_precision_loss)]
                {
                    *y = if c == usize::MAX { f64::NAN } else { c as f64 };
                }
            }
        }
    }

    /// Take the labels of a block parsed again (or of the validation file)
    /// and set its target to class indices; a label that is not a class is
    /// the error of a class met only in validation rows.
    pub fn encode(&self, t: &mut Table) -> Result<()> {
        let labels = labels::take_target(t, &self.target)?;
        for (i, l) in labels.iter().enumerate() {
            let Some(l) = l else { continue };
            match self.classes.iter().position(|c| c == l) {
                #[allow(clippy::cast_precision_loss)]
                Some(c) => t.target[i] = c as f64,
                None => return Err(self.only_in_validation(t.origin_of(i), t.lines[i], l)),
            }
        }
        Ok(())
    }
}
