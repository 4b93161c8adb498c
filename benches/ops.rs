//! Where a training step's time goes on the CPU (flex): the GEMMs of each layer, forward,
//! backward (burn's linear against the linear kernel, step by step) and the optimiser, for the
//! students and the teacher of issue #10.
//!
//!     cargo bench --bench ops [-- --steps 100] [--only kd-30] [--outside] [--glibc-defaults] [--spin]
//!
//! Sections: gemm, step-teacher, step-800, step-30, kd-800, kd-30, cache.
//!
//! Each figure is the median of `--steps` timed repetitions after a warm-up, in the same
//! process, on random data of MNIST's shape (batch 128, 784 inputs, 10 classes).

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use distillery::config::{ActivationKind, MlpSpec};
use distillery::config::{Combine, DistillConfig};
use distillery::distill::head::hard_head;
use distillery::distill::{LossWeights, StepContext, distillation_loss, teacher_soft_targets};
use distillery::model::Mlp;
use distillery::model::linear_kernel::use_burns_linear;
use distillery::train::fused_adam::FusedAdam;
use std::time::Instant;

const BATCH: usize = 128;
const INPUTS: usize = 784;
const CLASSES: usize = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `f` over `steps` runs after three warm-ups.
fn time(steps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    median(
        (0..steps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn random(shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// The three products of a linear layer `[BATCH, a] → [BATCH, b]`: forward, input gradient and
/// weight gradient, each as GFLOP/s.
fn layer_gemms(a: usize, b: usize, steps: usize, device: &Device) {
    let x = random([BATCH, a], device);
    let w = random([a, b], device);
    let dy = random([BATCH, b], device);
    let flop = 2.0 * (BATCH * a * b) as f64;
    let fwd = time(steps, || {
        let _ = x.clone().matmul(w.clone()).into_data();
    });
    let dx = time(steps, || {
        let _ = dy.clone().matmul(w.clone().transpose()).into_data();
    });
    let dw = time(steps, || {
        let _ = x.clone().transpose().matmul(dy.clone()).into_data();
    });
    println!(
        "  {a:>4}x{b:<4} forward {:6.1}  dX {:6.1}  dW {:6.1} GFLOP/s",
        flop / fwd / 1e9,
        flop / dx / 1e9,
        flop / dw / 1e9
    );
}

/// Forward + backward, and the optimiser step, of an MLP with `hidden` layers.
fn step_parts(name: &str, hidden: &[usize], dropout: f64, steps: usize, device: &Device) {
    let ad = device.clone().autodiff();
    let spec = MlpSpec {
        hidden: hidden.to_vec(),
        activation: ActivationKind::Relu,
        dropout,
    };
    let mut model = Mlp::new(&spec, INPUTS, CLASSES, &ad);
    let optimisers = [
        ("burn Adam", AdamConfig::new().init()),
        ("fused Adam", FusedAdam::init(None)),
    ];
    let x = random([BATCH, INPUTS], &ad);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new((0..BATCH as i64).map(|i| i % 10).collect(), [BATCH]),
        &ad,
    );
    // burn's linear and ours (`linear_kernel`), interleaved step by step.
    let mut fb_of = [Vec::new(), Vec::new()];
    for step in 0..steps + 3 {
        for (i, burns) in [true, false].into_iter().enumerate() {
            use_burns_linear(burns);
            let t = Instant::now();
            let loss = hard_head(model.forward(x.clone()), y.clone()).total;
            let _ = GradientsParams::from_grads(loss.backward(), &model);
            if step >= 3 {
                fb_of[i].push(t.elapsed().as_secs_f64());
            }
        }
    }
    let [fb_burn, fb] = fb_of.map(median);
    let mut opt = Vec::new();
    for (_, mut optim) in optimisers {
        let mut times = Vec::new();
        for _ in 0..steps.max(4) {
            let loss = hard_head(model.forward(x.clone()), y.clone()).total;
            let g = GradientsParams::from_grads(loss.backward(), &model);
            let t = Instant::now();
            model = optim.step(1e-3, model, g);
            times.push(t.elapsed().as_secs_f64());
        }
        opt.push(median(times));
    }
    let dims: Vec<usize> = std::iter::once(INPUTS)
        .chain(hidden.iter().copied())
        .chain([CLASSES])
        .collect();
    let macs: usize = dims.windows(2).map(|w| w[0] * w[1]).sum();
    let gemm_flop = 6.0 * (BATCH * macs) as f64;
    println!(
        "{name}: forward+backward {:.2} ms with burn's linear, {:.2} ms ({:.1} GFLOP/s of GEMM \
         work) with ours; burn's Adam {:.2} ms, fused Adam {:.2} ms; step with fused Adam {:.2} \
         ms = {:.0} samples/s",
        fb_burn * 1e3,
        fb * 1e3,
        gemm_flop / fb / 1e9,
        opt[0] * 1e3,
        opt[1] * 1e3,
        (fb + opt[1]) * 1e3,
        BATCH as f64 / (fb + opt[1])
    );
}

/// A scratch step against a KD step (cached soft targets at T = 3, α = 0.9, each step selecting
/// its rows), same network.
fn kd_against_scratch(hidden: &[usize], steps: usize, device: &Device) {
    let ad = device.clone().autodiff();
    let spec = MlpSpec {
        hidden: hidden.to_vec(),
        activation: ActivationKind::Relu,
        dropout: 0.0,
    };
    let mut model = Mlp::new(&spec, INPUTS, CLASSES, &ad);
    let mut optim = FusedAdam::init(None);
    let x = random([BATCH, INPUTS], device);
    let y = Tensor::<1, Int>::from_data(
        TensorData::new((0..BATCH as i64).map(|i| i % 10).collect(), [BATCH]),
        device,
    );
    // As the engine caches them: the teacher's targets for all 60,000 training examples,
    // each KD step selecting its batch's rows.
    let teacher = random([60_000, CLASSES], device);
    let weights = LossWeights {
        temperature: 3.0,
        alpha: 0.9,
        ..LossWeights::from(&DistillConfig::default())
    };
    let targets = teacher_soft_targets(
        std::slice::from_ref(&teacher),
        Combine::MeanProbabilities,
        3.0,
    );
    let mut scratch = Vec::new();
    let mut kd = Vec::new();
    for step in 0..steps + 3 {
        let first = (step * 7919 * BATCH) % (60_000 - BATCH);
        let rows = Tensor::<1, Int>::from_data(
            TensorData::new((first as i64..(first + BATCH) as i64).collect(), [BATCH]),
            device,
        );
        let t = Instant::now();
        let head = hard_head(model.forward(x.clone()), y.clone());
        let report = head.reported;
        let g = GradientsParams::from_grads(head.total.backward(), &model);
        model = optim.step(1e-3, model, g);
        let _ = report.into_data();
        scratch.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let ctx = StepContext {
            soft_targets: Some(targets.rows(rows)),
            ..StepContext::default()
        };
        let parts = distillation_loss(
            model.forward(x.clone()),
            &[],
            Combine::MeanProbabilities,
            y.clone(),
            &weights,
            true,
            &ctx,
        );
        let report = parts.reported;
        let g = GradientsParams::from_grads(parts.total.backward(), &model);
        model = optim.step(1e-3, model, g);
        let _ = report.into_data();
        kd.push(t.elapsed().as_secs_f64());
    }
    let (s, k) = (median(scratch), median(kd));
    println!(
        "student {hidden:?}: scratch step {:.3} ms, KD step {:.3} ms, ratio {:.2}",
        s * 1e3,
        k * 1e3,
        k / s
    );
}

fn main() {
    // The engine keeps freed buffers (`--glibc-defaults` measures without that).
    if !std::env::args().any(|a| a == "--glibc-defaults") {
        distillery::train::allocator::keep_freed_memory();
    }
    // The engine trains each phase on a pool's worker; `--outside` measures from a thread
    // outside any pool, as the engine did before.
    if std::env::args().any(|a| a == "--outside") {
        println!("from a thread outside the pool");
        run();
    } else {
        // As the engine's training threads do (see `train::subnormal`).
        let pool = rayon::ThreadPoolBuilder::new()
            .start_handler(|_| distillery::train::subnormal::flush_on_this_thread())
            .build()
            .expect("a thread pool");
        println!("on a rayon pool's worker, as the engine trains");
        if std::env::args().any(|a| a == "--spin") {
            // An experiment, not what the engine does: the other workers spin, taking gemm's
            // forked halves at once instead of sleeping between them (as OpenMP's threads
            // do). A keeper that lands on the measuring thread itself returns at once.
            let stop = std::sync::atomic::AtomicBool::new(false);
            pool.install(|| {
                let main = rayon::current_thread_index();
                rayon::scope(|s| {
                    s.spawn_broadcast(|_, _| {
                        while rayon::current_thread_index() != main
                            && !stop.load(std::sync::atomic::Ordering::Relaxed)
                        {
                            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                                std::hint::spin_loop();
                            }
                        }
                    });
                    run();
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                })
            });
        } else {
            pool.install(run);
        }
    }
}

fn run() {
    let steps = std::env::args()
        .skip_while(|a| a != "--steps")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    // `--only NAME` runs the sections whose name contains NAME (for a profiler).
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let runs = |section: &str| only.as_deref().is_none_or(|o| section.contains(o));
    let device = Device::flex();
    println!("threads: {}", rayon::current_num_threads());
    if runs("gemm") {
        let a = random([1024, 1024], &device);
        let b = random([1024, 1024], &device);
        let t = time(10, || {
            let _ = a.clone().matmul(b.clone()).into_data();
        });
        println!(
            "matmul 1024²: {:.1} GFLOP/s",
            2.0 * 1024f64.powi(3) / t / 1e9
        );
        println!("layer GEMMs, batch {BATCH}:");
        for (a, b) in [(784, 1200), (1200, 1200), (784, 800), (800, 800)] {
            layer_gemms(a, b, steps, &device);
        }
    }
    if runs("step-teacher") {
        let name = "teacher 1200-1200, dropout 0.5";
        step_parts(name, &[1200, 1200], 0.5, steps, &device);
    }
    if runs("step-800") {
        step_parts("student 800-800", &[800, 800], 0.0, steps, &device);
    }
    if runs("step-30") {
        step_parts("student 30-30", &[30, 30], 0.0, steps * 10, &device);
    }
    if runs("kd-800") {
        kd_against_scratch(&[800, 800], steps, &device);
    }
    if runs("kd-30") {
        kd_against_scratch(&[30, 30], steps * 10, &device);
    }
    if runs("cache") {
        soft_target_cache(steps, &device);
    }
}

/// Filling the soft-target cache: softmax and log-softmax at T of a teacher's logits for
/// MNIST's 60,000 training examples, once per KD phase and per change of T.
fn soft_target_cache(steps: usize, device: &Device) {
    let logits = random([60_000, CLASSES], device);
    let t = time(steps.min(10), || {
        let targets = teacher_soft_targets(
            std::slice::from_ref(&logits),
            Combine::MeanProbabilities,
            3.0,
        );
        let _ = (targets.probs.into_data(), targets.log_probs.into_data());
    });
    println!("soft-target cache for 60,000 examples: {:.2} ms", t * 1e3);
}
