//! An experiment as plain serde structs, loaded from RON.
//!
//! Every struct carries `#[serde(default)]`, so a preset names only what differs from the
//! defaults, and `deny_unknown_fields`, so a typo is an error naming the nearest valid field
//! rather than a silently ignored setting. burn's own `Config` types are built from these in
//! `model` and `train`; they are never exposed here.

mod load;
pub mod methods;
mod overrides;
pub mod ranges;
mod validate;

pub use load::{ConfigError, from_ron_str, load_file, parse_ron, to_ron_string};
pub use methods::{
    CtkdParams, DistParams, DkdParams, MethodParams, NkdParams, SoftLoss, VirtualTeacherParams,
    Weighting,
};
pub use overrides::{apply_override, apply_overrides};
pub use ranges::Range;
pub use validate::{Problem, validate};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One distillation experiment: data, teacher, student, losses and training budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Experiment {
    pub name: String,
    /// Seeds data splits, initialisation, shuffling and dropout.
    pub seed: u64,
    pub data: DataConfig,
    pub transfer: TransferConfig,
    pub teacher: TeacherConfig,
    pub student: ArchSpec,
    pub distill: DistillConfig,
    pub train: TrainConfig,
    pub device: DeviceChoice,
}

impl Default for Experiment {
    fn default() -> Self {
        Self {
            name: "digits-mlp".into(),
            seed: 42,
            data: DataConfig::default(),
            transfer: TransferConfig::default(),
            teacher: TeacherConfig::default(),
            student: ArchSpec::Mlp(MlpSpec {
                hidden: vec![16],
                activation: ActivationKind::Relu,
                dropout: 0.0,
            }),
            distill: DistillConfig::default(),
            train: TrainConfig::default(),
            device: DeviceChoice::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    pub source: DataSource,
    /// Share of the data held out for testing when the source has no test split of its own.
    pub test_fraction: f64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            source: DataSource::Digits,
            test_fraction: 0.2,
        }
    }
}

/// Where the examples come from. Folder sources can be redirected with `--data-dir`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// The embedded UCI handwritten digits (1797 images of 8×8 pixels, 10 classes).
    Digits,
    /// A folder with the four MNIST IDX files (gzipped or raw).
    Mnist(PathBuf),
    /// A folder with the four Fashion-MNIST IDX files (same names as MNIST).
    FashionMnist(PathBuf),
    /// IDX files named one by one.
    Idx(IdxFiles),
    /// A CSV file of numeric features and a label column.
    Csv(CsvSource),
    /// Seeded two-dimensional toy data.
    Synthetic(SyntheticSpec),
}

impl DataSource {
    /// The folder a folder-based source reads from, if it is one.
    pub fn folder_mut(&mut self) -> Option<&mut PathBuf> {
        match self {
            DataSource::Mnist(dir) | DataSource::FashionMnist(dir) => Some(dir),
            DataSource::Idx(files) => files.dir.as_mut(),
            _ => None,
        }
    }

    /// A short human name for summaries and the window.
    pub fn label(&self) -> String {
        match self {
            DataSource::Digits => "UCI digits (embedded)".into(),
            DataSource::Mnist(dir) => format!("MNIST ({})", dir.display()),
            DataSource::FashionMnist(dir) => format!("Fashion-MNIST ({})", dir.display()),
            DataSource::Idx(files) => format!("IDX ({})", files.train_images.display()),
            DataSource::Csv(csv) => format!("CSV ({})", csv.path.display()),
            DataSource::Synthetic(s) => format!("{:?} ({} classes)", s.kind, s.classes),
        }
    }

    /// Whether examples are images (so a CNN and pixel jitter make sense).
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            DataSource::Digits
                | DataSource::Mnist(_)
                | DataSource::FashionMnist(_)
                | DataSource::Idx(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct IdxFiles {
    /// Folder the file names below are relative to (`--data-dir` replaces it).
    pub dir: Option<PathBuf>,
    pub train_images: PathBuf,
    pub train_labels: PathBuf,
    /// Without a test pair, `data.test_fraction` of the training files is held out.
    pub test_images: Option<PathBuf>,
    pub test_labels: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CsvSource {
    pub path: PathBuf,
    /// The label column by header name or 0-based index; `None` means the last column.
    pub label_column: Option<LabelColumn>,
    pub has_header: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelColumn {
    Index(usize),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticSpec {
    pub kind: SyntheticKind,
    pub classes: usize,
    pub samples: usize,
    /// Standard deviation of the Gaussian noise added to each point, in data units.
    pub noise: f64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            kind: SyntheticKind::Spirals,
            classes: 3,
            samples: 1500,
            noise: 0.2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyntheticKind {
    Spirals,
    Moons,
    Blobs,
    Circles,
}

/// The data the student learns from: Hinton's transfer set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    pub source: TransferSource,
    /// Keep a stratified, seeded subset of this share of the transfer set.
    pub fraction: f64,
    /// Classes removed from the transfer set (Hinton's "no 3s" experiment).
    pub omit_classes: Vec<usize>,
    /// Whether hard labels may be used; without them only the soft loss trains the student.
    pub labeled: bool,
    /// Share of the training set held out from every phase (stratified, seeded): the
    /// validation split an omitted class's bias correction is chosen on, never the test set.
    /// 0 holds nothing out.
    pub validation_fraction: f64,
}

impl Default for TransferConfig {
    fn default() -> Self {
        Self {
            source: TransferSource::TrainSet,
            fraction: 1.0,
            omit_classes: Vec::new(),
            labeled: true,
            validation_fraction: 0.0,
        }
    }
}

impl TransferConfig {
    /// The omitted classes, each once, in order (the file may list one twice).
    pub fn omitted(&self) -> Vec<usize> {
        let mut classes = self.omit_classes.clone();
        classes.sort_unstable();
        classes.dedup();
        classes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TransferSource {
    /// The teacher's own training set.
    TrainSet,
    /// This share of the training set, held out from the teacher.
    HeldOut(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherConfig {
    /// One architecture per ensemble member; members differ in seed.
    pub members: Vec<ArchSpec>,
    pub combine: Combine,
    pub epochs: usize,
    /// A folder of saved teacher weights (a run's `weights/`) to load instead of training, or
    /// for a one-member teacher a single `.bpk` file (a run's `weights/student.bpk`).
    pub weights: Option<PathBuf>,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        Self {
            members: vec![ArchSpec::Mlp(MlpSpec {
                hidden: vec![256, 256],
                activation: ActivationKind::Relu,
                dropout: 0.2,
            })],
            combine: Combine::MeanProbabilities,
            epochs: 20,
            weights: None,
        }
    }
}

/// How an ensemble's members are averaged into one teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combine {
    /// Arithmetic mean of the members' softened probabilities.
    MeanProbabilities,
    /// Mean of the logits: the normalised geometric mean of the probabilities.
    MeanLogits,
}

/// A network architecture. Sizes are fixed by the data (inputs, classes) at build time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ArchSpec {
    Mlp(MlpSpec),
    /// Multinomial logistic regression: one linear layer.
    SoftmaxRegression,
    /// LeNet-style conv–pool stacks and a dense head, for image data.
    Cnn(CnnSpec),
}

impl ArchSpec {
    /// A compact description such as `MLP 256-256 relu` for tables and summaries.
    pub fn short_name(&self) -> String {
        match self {
            ArchSpec::Mlp(m) if m.hidden.is_empty() => "MLP (no hidden layer)".into(),
            ArchSpec::Mlp(m) => format!("MLP {} {}", join_widths(&m.hidden), m.activation.name()),
            ArchSpec::SoftmaxRegression => "softmax regression".into(),
            ArchSpec::Cnn(c) => format!(
                "CNN conv {} dense {}",
                join_widths(&c.channels),
                join_widths(&c.hidden)
            ),
        }
    }

    pub fn dropout(&self) -> f64 {
        match self {
            ArchSpec::Mlp(m) => m.dropout,
            ArchSpec::SoftmaxRegression => 0.0,
            ArchSpec::Cnn(c) => c.dropout,
        }
    }
}

fn join_widths(widths: &[usize]) -> String {
    widths
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpSpec {
    pub hidden: Vec<usize>,
    pub activation: ActivationKind,
    /// Dropout after each hidden activation (Hinton's teachers use it; students rarely do).
    pub dropout: f64,
}

impl Default for MlpSpec {
    fn default() -> Self {
        Self {
            hidden: vec![64],
            activation: ActivationKind::Relu,
            dropout: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnSpec {
    /// Output channels of each conv (3×3, same padding) + ReLU + 2×2 max-pool stage.
    pub channels: Vec<usize>,
    pub kernel_size: usize,
    /// Widths of the dense layers after the last pool.
    pub hidden: Vec<usize>,
    pub dropout: f64,
}

impl Default for CnnSpec {
    fn default() -> Self {
        Self {
            channels: vec![8, 16],
            kernel_size: 3,
            hidden: vec![64],
            dropout: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationKind {
    Relu,
    Gelu,
    Tanh,
}

impl ActivationKind {
    pub const ALL: [ActivationKind; 3] = [Self::Relu, Self::Gelu, Self::Tanh];

    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Gelu => "gelu",
            Self::Tanh => "tanh",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// Softmax temperature T of the soft targets (and of the student in the soft term); the
    /// base temperature of the methods that have one, unused by those that do not.
    pub temperature: f64,
    /// Weight of the soft term; `1 − alpha` weighs the hard-label cross-entropy.
    pub alpha: f64,
    pub loss: SoftLoss,
    /// Multiply the soft term by T² so its gradients keep their size as T changes (KL and
    /// soft cross-entropy; the other methods fix their own factor as their authors do).
    pub scale_by_t_squared: bool,
    /// How soft and hard terms add up: by `alpha`, or by two fixed weights.
    pub weighting: Weighting,
    pub dkd: DkdParams,
    pub dist: DistParams,
    pub ctkd: CtkdParams,
    pub nkd: NkdParams,
    pub virtual_teacher: VirtualTeacherParams,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self {
            temperature: 4.0,
            alpha: 0.9,
            loss: SoftLoss::Kl,
            scale_by_t_squared: true,
            weighting: Weighting::Alpha,
            dkd: DkdParams::default(),
            dist: DistParams::default(),
            ctkd: CtkdParams::default(),
            nkd: NkdParams::default(),
            virtual_teacher: VirtualTeacherParams::default(),
        }
    }
}

impl DistillConfig {
    /// Every method's hyper-parameters in one value.
    pub fn params(&self) -> MethodParams {
        MethodParams {
            dkd: self.dkd,
            dist: self.dist,
            ctkd: self.ctkd,
            nkd: self.nkd,
            virtual_teacher: self.virtual_teacher,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Epochs of the baseline and the distilled student (the teacher has its own).
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerSpec,
    /// L2 penalty added to the gradients (coupled weight decay).
    pub weight_decay: f64,
    /// Also train the student from scratch on hard labels, for comparison.
    pub baseline: bool,
    /// Random shifts of up to this many pixels per image and batch (image data only).
    pub jitter_pixels: usize,
    /// Losses are read back from the device once every this many steps.
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 64,
            optimizer: OptimizerSpec::Adam { lr: 1e-3 },
            weight_decay: 0.0,
            baseline: true,
            jitter_pixels: 0,
            log_every: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OptimizerSpec {
    Adam {
        lr: f64,
    },
    Sgd {
        lr: f64,
        #[serde(default)]
        momentum: f64,
    },
}

impl OptimizerSpec {
    pub fn learning_rate(&self) -> f64 {
        match self {
            Self::Adam { lr } | Self::Sgd { lr, .. } => *lr,
        }
    }

    pub fn learning_rate_mut(&mut self) -> &mut f64 {
        match self {
            Self::Adam { lr } | Self::Sgd { lr, .. } => lr,
        }
    }
}

/// Where tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceChoice {
    /// A hardware GPU through wgpu when there is one, else the CPU.
    Auto,
    /// burn's pure-Rust `flex` CPU backend.
    Cpu,
    /// wgpu; an error when no hardware adapter is found.
    Gpu,
}
