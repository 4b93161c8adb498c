//! Setup: everything checked and prepared before the first phase trains. The experiment is
//! validated, the data loaded and split, the device chosen (with the CPU instead of a GPU
//! too small for the run), the memory estimate checked, the architectures built once and
//! saved teacher weights loaded — so every bad input is refused before any training time is
//! spent. What passes becomes a [`Trainer`] with the data on the device.

use super::publish::region_grid;
use super::{
    Control, DataInfo, Event, History, Notice, NoticeKind, Outcome, RunError, SetupInfo,
    TeacherWeightsError, TestLogits, WeightsProblem, device,
};
use crate::config::{Experiment, validate};
use crate::data::{self, Dataset, Splits, TransferSet, select_transfer};
use crate::model::{IoShape, ModelSize, Net, arch_size};
use burn::prelude::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

pub(super) type Sink<'a> = &'a (dyn Fn(Event) + Sync);

/// Validate, load the data, pick the device and run every phase.
pub fn run_experiment(
    exp: &Experiment,
    control: &Control,
    sink: Sink,
) -> Result<Outcome, RunError> {
    let started = Instant::now();
    let prepared = prepare(exp)?;
    let mut trainer = prepared.trainer(exp, control, sink)?;
    let setup = prepared.announce(&trainer, sink);
    Ok(trainer.run(setup, started))
}

/// What a run needs before its trainer exists: the data, split, and the device.
pub(super) struct Prepared {
    pub(super) splits: Splits,
    pub(super) transfer: TransferSet,
    device: Device,
    device_info: super::DeviceInfo,
}

/// Validate, load and split the data, and choose the device: everything that can refuse an
/// experiment before a tensor exists.
pub(super) fn prepare(exp: &Experiment) -> Result<Prepared, RunError> {
    let problems = validate(exp);
    if !problems.is_empty() {
        return Err(RunError::Invalid(crate::config::Problem::list(&problems)));
    }
    let splits = data::load(&exp.data, exp.seed).map_err(|e| RunError::Data(e.to_string()))?;
    let transfer = select_transfer(&splits.train, &exp.transfer, exp.seed)
        .map_err(|e| RunError::Data(e.to_string()))?;
    let (mut device, mut device_info) = device::select(exp.device).map_err(RunError::Device)?;
    let io = io_shape(&splits.train);
    // A tensor larger than the GPU can bind would fail mid-run: use the CPU instead when the
    // GPU was chosen automatically, refuse when it was asked for.
    let largest = super::memory::largest_tensor(exp, io, splits.train.len(), splits.test.len());
    if let Some(problem) = super::memory::gpu_buffer_problem(largest, device_info.max_buffer_bytes)
    {
        if exp.device == crate::config::DeviceChoice::Gpu {
            return Err(RunError::TooLarge(format!(
                "this experiment cannot run on the GPU: {problem}"
            )));
        }
        (device, device_info) = device::cpu(Some(format!("the GPU is too small: {problem}")));
    }
    // Checked before any tensor exists: a configuration that cannot fit is refused up front.
    let needed = super::memory::estimate(exp, io, splits.train.len(), splits.test.len());
    if !device_info.is_gpu() {
        super::memory::check_fits(&needed, super::memory::available_bytes(), "CPU")
            .map_err(RunError::TooLarge)?;
    }
    Ok(Prepared {
        splits,
        transfer,
        device,
        device_info,
    })
}

impl Prepared {
    pub(super) fn trainer<'a>(
        &'a self,
        exp: &'a Experiment,
        control: &'a Control,
        sink: Sink<'a>,
    ) -> Result<Trainer<'a>, RunError> {
        Trainer::new(
            exp,
            &self.splits,
            &self.transfer,
            self.device.clone(),
            control,
            sink,
        )
    }

    /// Tell the listener where the run trains and on what; the same facts, returned.
    pub(super) fn announce(&self, trainer: &Trainer, sink: Sink) -> SetupInfo {
        if let Some(note) = &self.device_info.note {
            sink(Event::Notice(Notice::new(
                NoticeKind::CpuFallback,
                format!("training on the CPU ({note})"),
            )));
        }
        if !trainer.exp.transfer.omit_classes.is_empty() && self.transfer.validation.is_empty() {
            sink(Event::Notice(Notice::new(
                NoticeKind::NoValidationSplit,
                "the transfer set omits classes but holds out no validation split, so no bias \
                 correction is chosen for them: set transfer.validation_fraction (0.1, say)",
            )));
        }
        let setup = SetupInfo {
            device: self.device_info.clone(),
            data: data_info(&self.splits, &self.transfer),
            teacher_size: trainer.teacher_size(),
            student_size: arch_size(&trainer.exp.student, trainer.io),
        };
        sink(Event::Setup(Box::new(setup.clone())));
        setup
    }
}

/// The model input and output shape for a dataset.
pub fn io_shape(train: &Dataset) -> IoShape {
    IoShape {
        inputs: train.num_features,
        classes: train.num_classes,
        image: train.image,
    }
}

fn data_info(splits: &Splits, transfer: &TransferSet) -> DataInfo {
    DataInfo {
        description: splits.description.clone(),
        train_examples: splits.train.len(),
        test_examples: splits.test.len(),
        transfer_examples: transfer.transfer.len(),
        teacher_examples: transfer.teacher.len(),
        features: splits.train.num_features,
        classes: splits.train.num_classes,
        class_names: splits.train.class_names.clone(),
        transfer_labeled: transfer.labeled,
        validation_examples: transfer.validation.len(),
    }
}

/// Build every architecture once (a CNN too deep for the images is an input error) and load
/// the saved teacher weights if the experiment names them. Returns the loaded teacher
/// members, if any. `distillery check` calls this too.
pub fn check_models(
    exp: &Experiment,
    io: IoShape,
    device: &Device,
) -> Result<Option<Vec<Net>>, RunError> {
    for spec in exp.teacher.members.iter().chain([&exp.student]) {
        Net::build(spec, io, device).map_err(RunError::Model)?;
    }
    match &exp.teacher.weights {
        Some(dir) => load_teacher(exp, io, device, dir).map(Some),
        None => Ok(None),
    }
}

/// Load every teacher member from `dir/teacher-M.bpk`, each checked against its architecture.
fn load_teacher(
    exp: &Experiment,
    io: IoShape,
    device: &Device,
    dir: &Path,
) -> Result<Vec<Net>, RunError> {
    let members = &exp.teacher.members;
    let mut nets = Vec::with_capacity(members.len());
    for (m, spec) in members.iter().enumerate() {
        // One file names a one-member teacher directly: a run's `weights/student.bpk`, so a
        // distilled student can teach the next one (a teaching-assistant chain).
        let path = if dir.is_file() && members.len() == 1 {
            dir.to_path_buf()
        } else {
            dir.join(format!("teacher-{m}.bpk"))
        };
        let fail = |problem, message: String| {
            RunError::TeacherWeights(TeacherWeightsError {
                path: path.clone(),
                member: m,
                problem,
                message,
            })
        };
        if !path.is_file() {
            return Err(fail(
                WeightsProblem::Missing,
                format!(
                    "teacher weights: {} is missing (the preset lists {} member(s); a run's \
                     weights/ folder holds teacher-0.bpk, teacher-1.bpk, ...)",
                    path.display(),
                    members.len()
                ),
            ));
        }
        let net = Net::build(spec, io, device).map_err(RunError::Model)?;
        let record = burn::store::ModuleRecord::load(&path).map_err(|e| {
            fail(
                WeightsProblem::Unreadable,
                format!(
                    "teacher weights: {} cannot be read (damaged, or not a burn .bpk weights \
                     file): {}",
                    path.display(),
                    record_error_text(&e).trim_start()
                ),
            )
        })?;
        let loaded = burn::module::Module::try_load_record(net, record).map_err(|e| {
            fail(
                WeightsProblem::WrongArchitecture,
                format!(
                    "teacher weights: {} does not fit teacher member {m} ({}); were they saved \
                     by a run with another teacher architecture or dataset?\n{}",
                    path.display(),
                    spec.short_name(),
                    record_error_text(&e)
                ),
            )
        })?;
        nets.push(loaded);
    }
    Ok(nets)
}

/// burn's record error, with its list of tensors one per line:
/// `Record validation error: Apply errors: ["a: shape mismatch, expected Shape { dims: [2] }
/// but record has Shape { dims: [3] }", ...]` becomes
/// `  a: shape mismatch, expected [2] but record has [3]` on lines of their own.
pub fn record_error_text(e: &burn::store::RecordError) -> String {
    use burn::store::RecordError;
    let text = match e {
        RecordError::Io(m) | RecordError::Validation(m) => m.as_str(),
    };
    let Some((head, list)) = text.split_once(": [") else {
        return format!("  {text}");
    };
    let Some(list) = list.strip_suffix(']') else {
        return format!("  {text}");
    };
    let items: Vec<String> = list
        .split("\", \"")
        .map(|item| {
            item.trim_matches('"')
                .replace("Shape { dims: ", "")
                .replace("] }", "]")
        })
        .filter(|item| !item.is_empty())
        .collect();
    let head = match head {
        "Apply errors" => "tensors whose shapes differ",
        "Missing tensors" => "tensors the file lacks",
        "Unused tensors" => "tensors in the file that the model does not have",
        other => other,
    };
    let mut lines = vec![format!("  {head}:")];
    lines.extend(items.iter().map(|item| format!("    {item}")));
    lines.join("\n")
}

/// What the phases share: the experiment, the data on the device, the listener, the
/// measurements so far, and the student's initial weights.
pub(super) struct Trainer<'a> {
    pub(super) exp: &'a Experiment,
    pub(super) splits: &'a Splits,
    pub(super) transfer: &'a TransferSet,
    pub(super) device: Device,
    pub(super) io: IoShape,
    pub(super) train_x: Tensor<2>,
    pub(super) train_y: Tensor<1, Int>,
    pub(super) test_x: Tensor<2>,
    /// Grid over the data for decision regions (2-D data only) and its bounds.
    pub(super) grid: Option<(Tensor<2>, [f32; 4])>,
    pub(super) control: &'a Control,
    pub(super) sink: Sink<'a>,
    pub(super) history: History,
    pub(super) logits: Vec<Arc<TestLogits>>,
    /// The frozen teacher's test-set probabilities, once it exists, to compare students with.
    pub(super) teacher_test_probs: Option<Vec<f32>>,
    /// The student's initial weights, shared by the baseline and the distilled student.
    pub(super) student_init: Option<Net>,
    /// Teacher members loaded (and checked) from saved weights during setup.
    pub(super) loaded_teacher: Option<Vec<Net>>,
}

impl<'a> Trainer<'a> {
    pub(super) fn new(
        exp: &'a Experiment,
        splits: &'a Splits,
        transfer: &'a TransferSet,
        device: Device,
        control: &'a Control,
        sink: Sink<'a>,
    ) -> Result<Self, RunError> {
        let train = &splits.train;
        let io = io_shape(train);
        // Before any tensor of the data exists: a bad architecture or bad weights are input
        // errors now rather than failures after the teacher has trained.
        let loaded_teacher = check_models(exp, io, &device)?;
        Ok(Self {
            exp,
            splits,
            transfer,
            io,
            train_x: features_tensor(train, &device),
            train_y: labels_tensor(&train.labels, &device),
            test_x: features_tensor(&splits.test, &device),
            grid: region_grid(train, &device),
            device,
            control,
            sink,
            history: History::default(),
            logits: Vec::new(),
            teacher_test_probs: None,
            student_init: None,
            loaded_teacher,
        })
    }

    pub(super) fn teacher_size(&self) -> ModelSize {
        self.exp
            .teacher
            .members
            .iter()
            .map(|m| arch_size(m, self.io))
            .fold(Default::default(), |a, b| a + b)
    }

    pub(super) fn student_seed(&self) -> u64 {
        self.exp.seed.wrapping_add(1)
    }
}

fn features_tensor(data: &Dataset, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(data.features.clone(), [data.len(), data.num_features]),
        device,
    )
}

/// Row indices (of the training data, say) as a tensor to `select` with.
pub(super) fn rows_tensor(rows: &[usize], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(
            rows.iter().map(|&i| i as i64).collect::<Vec<_>>(),
            [rows.len()],
        ),
        device,
    )
}

fn labels_tensor(labels: &[u32], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(
            labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            [labels.len()],
        ),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burns_tensor_list_is_one_line_per_tensor() {
        let e = burn::store::RecordError::Validation(
            "Apply errors: [\"layers.0.weight: shape mismatch, expected Shape { dims: [64, 256] } \
             but record has Shape { dims: [64, 8] }\", \"layers.0.bias: shape mismatch, expected \
             Shape { dims: [256] } but record has Shape { dims: [8] }\"]"
                .into(),
        );
        assert_eq!(
            record_error_text(&e),
            "  tensors whose shapes differ:\n    layers.0.weight: shape mismatch, expected [64, 256] but record \
             has [64, 8]\n    layers.0.bias: shape mismatch, expected [256] but record has [8]"
        );
        let io = burn::store::RecordError::Io("failed to read header".into());
        assert_eq!(record_error_text(&io), "  failed to read header");
    }
}
