//! What the phases publish while they train: the test-set evaluation after each epoch, the
//! models' test logits for the probability views, and decision regions over 2-D data.

use super::eval::{Evaluation, ensemble_probs, predict};
use super::setup::Trainer;
use super::summary::ModelReport;
use super::{EpochMetrics, Event, Phase, RegionGrid, Role, TestLogits};
use crate::config::Combine;
use crate::data::Dataset;
use crate::model::Net;
use burn::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// Grid points per side of the decision-region maps for 2-D data.
pub const REGION_RESOLUTION: usize = 80;

impl Trainer<'_> {
    /// Test-set logits and measures after an epoch, published as events.
    pub(super) fn evaluate_epoch(
        &mut self,
        phase: Phase,
        model: &Net,
        (epoch, step): (usize, usize),
        train_loss: f32,
        epoch_start: Instant,
    ) -> Vec<f32> {
        let frozen = model.valid();
        let logits = predict(&frozen, &self.test_x);
        let probs = ensemble_probs(
            std::slice::from_ref(&logits),
            self.io.classes,
            Combine::MeanLogits,
        );
        let teacher_probs = match phase {
            Phase::Teacher { .. } => None,
            _ => self.teacher_test_probs.as_deref(),
        };
        let eval = Evaluation::new(
            &probs,
            &self.splits.test.labels,
            self.io.classes,
            teacher_probs,
        );
        self.history.epochs.push(EpochMetrics {
            phase,
            epoch,
            step,
            test_accuracy: eval.accuracy,
            test_loss: eval.loss,
            train_loss,
            agreement: eval.agreement,
            kl_to_teacher: eval.kl_to_teacher,
            seconds: epoch_start.elapsed().as_secs_f32(),
        });
        (self.sink)(Event::Epoch(
            *self.history.epochs.last().expect("just pushed"),
        ));
        self.publish_logits(phase.role(), vec![logits.clone()], step);
        self.publish_regions(phase.role(), &[frozen], Combine::MeanLogits);
        logits
    }

    /// Freeze the members, measure them as one (ensemble) teacher on the test set into
    /// `report`, and publish their test logits. Returns the frozen members and the combined
    /// test probabilities.
    pub(super) fn measure_teacher(
        &mut self,
        members: &[Net],
        report: &mut ModelReport,
    ) -> (Vec<Net>, Vec<f32>) {
        let frozen: Vec<Net> = members.iter().map(|m| m.valid()).collect();
        let member_test: Vec<Vec<f32>> = frozen.iter().map(|m| predict(m, &self.test_x)).collect();
        let probs = ensemble_probs(&member_test, self.io.classes, self.exp.teacher.combine);
        report.set_evaluation(&Evaluation::new(
            &probs,
            &self.splits.test.labels,
            self.io.classes,
            None,
        ));
        self.publish_logits(Role::Teacher, member_test, 0);
        (frozen, probs)
    }

    pub(super) fn publish_logits(&mut self, role: Role, members: Vec<Vec<f32>>, step: usize) {
        let logits = Arc::new(TestLogits {
            role,
            members,
            classes: self.io.classes,
            step,
        });
        self.logits.retain(|l| l.role != role);
        self.logits.push(logits.clone());
        (self.sink)(Event::Logits(logits));
    }

    /// Class probabilities over the 2-D grid, for decision-region maps.
    pub(super) fn publish_regions(&self, role: Role, members: &[Net], combine: Combine) {
        let Some((grid, bounds)) = &self.grid else {
            return;
        };
        let member_logits: Vec<Vec<f32>> = members.iter().map(|m| predict(m, grid)).collect();
        let probs = ensemble_probs(&member_logits, self.io.classes, combine);
        (self.sink)(Event::Regions(Arc::new(RegionGrid {
            role,
            resolution: REGION_RESOLUTION,
            bounds: *bounds,
            probs,
            classes: self.io.classes,
        })));
    }
}

/// A square grid over two-dimensional data with a margin, as device features.
pub(super) fn region_grid(train: &Dataset, device: &Device) -> Option<(Tensor<2>, [f32; 4])> {
    if train.num_features != 2 || train.image.is_some() {
        return None;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in train.features.chunks_exact(2) {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let (mx, my) = ((x1 - x0) * 0.1, (y1 - y0) * 0.1);
    let bounds = [x0 - mx, x1 + mx, y0 - my, y1 + my];
    let r = REGION_RESOLUTION;
    let mut points = Vec::with_capacity(r * r * 2);
    for iy in 0..r {
        for ix in 0..r {
            let fx = (ix as f32 + 0.5) / r as f32;
            let fy = (iy as f32 + 0.5) / r as f32;
            points.push(bounds[0] + fx * (bounds[1] - bounds[0]));
            points.push(bounds[2] + fy * (bounds[3] - bounds[2]));
        }
    }
    Some((
        Tensor::from_data(TensorData::new(points, [r * r, 2]), device),
        bounds,
    ))
}
