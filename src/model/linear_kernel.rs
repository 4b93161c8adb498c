//! A linear layer `y = x·W + b`, and with its ReLU `max(0, x·W + b)`, as one operation with
//! its own backward pass, on the CPU.
//!
//! burn's linear is a matmul and a broadcast add, and its backward pass multiplies by
//! transposed views. On flex each product goes to the `gemm` crate with `Rayon(0)`, which
//! forks and joins for every block of the product, and the input gradient `dy·Wᵀ` reads
//! the weight column-major, the slow way round for gemm's packing. Here each of the three
//! products is split once over the pool ([`super::gemm_parts`]), and the input gradient is
//! formed transposed (`dxᵀ = W·dyᵀ`), which reads the weight row by row. The bias is the
//! output's starting value instead of a second pass, the weight gradient is written into
//! memory nobody zeroes first, and a ReLU that follows is applied in place and undone in
//! the backward pass without an operation of its own.
//!
//! The tests compare value and every gradient with burn's linear and ReLU. Off flex (wgpu)
//! burn's layers run unchanged.

use super::gemm_parts::{Order, Product, Split, Strided, new_product};
use crate::distill::head::{dense, floats, matrix, on_flex, vector};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the ops bench to time burn's linear against this one in the same process.
static BURNS_LINEAR: AtomicBool = AtomicBool::new(false);

/// Use burn's linear everywhere from now on (`true`) or this kernel on flex (`false`, the
/// default): for benchmarks that compare the two.
pub fn use_burns_linear(on: bool) {
    BURNS_LINEAR.store(on, Ordering::Relaxed);
}

/// `layer.forward(x)` for a batch of rows, through the split products on flex.
pub fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    match &layer.bias {
        Some(bias) if applies(&x) => fused(layer, bias, x, false),
        _ => layer.forward(x),
    }
}

/// `relu(layer.forward(x))`, in one operation on flex.
pub fn linear_relu(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    match &layer.bias {
        Some(bias) if applies(&x) => fused(layer, bias, x, true),
        _ => activation::relu(layer.forward(x)),
    }
}

/// Whether the kernel runs: f32 on flex, and no benchmark asking for burn's linear.
fn applies(x: &Tensor<2>) -> bool {
    on_flex(x) && !BURNS_LINEAR.load(Ordering::Relaxed)
}

fn fused(layer: &Linear, bias: &Param<Tensor<1>>, x: Tensor<2>, relu: bool) -> Tensor<2> {
    type Ops = burn::backend::Dispatch;
    Tensor::from_dispatch(<Ops as LinearOps>::affine(
        x.into_dispatch(),
        layer.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        relu,
    ))
}

/// The layer as backend operations: flex computes them, autodiff records the backward pass.
#[backend_extension(Flex, Autodiff)]
pub trait LinearOps: Backend {
    /// `x·W + b`, or `max(0, x·W + b)` when `relu`: x `[batch, in]`, W `[in, out]`, b `[out]`.
    fn affine(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// The gradient through a ReLU whose output was `y`: `dy` where `y > 0` (or NaN, as
    /// flex's ReLU keeps it), else 0.
    fn relu_gradient(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self>;

    /// From the output's gradient `dy`: `(dy·Wᵀ when input_gradient, xᵀ·dy, Σ_rows dy)`.
    fn affine_gradients(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        input_gradient: bool,
    ) -> (
        Option<FloatTensor<Self>>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

type Gradients3<B> = (Option<FloatTensor<B>>, FloatTensor<B>, FloatTensor<B>);

impl LinearOps for Flex {
    fn affine(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, relu: bool) -> FlexTensor {
        let (x, w, b) = (dense(x), dense(weight), dense(bias));
        let [batch, inputs, outputs] = sizes(&x, &w);
        assert_eq!(
            b.layout().num_elements(),
            outputs,
            "linear: one bias per output"
        );
        let bias = floats(&b);
        let mut y = Vec::with_capacity(batch * outputs);
        for _ in 0..batch {
            y.extend_from_slice(bias);
        }
        // y[b, o] += Σ_i x[b, i]·W[i, o], split over the outputs.
        Product {
            rows: batch,
            cols: outputs,
            inner: inputs,
            dst: Strided::row_major(y.as_mut_ptr(), outputs),
            lhs: Strided::row_major(floats(&x).as_ptr().cast_mut(), inputs),
            rhs: Strided::row_major(floats(&w).as_ptr().cast_mut(), outputs),
            accumulate: true,
            relu,
        }
        .run(Split::Cols);
        matrix(y, batch, outputs)
    }

    fn relu_gradient(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
        let (y, dy) = (dense(y), dense(dy));
        let [rows, cols] = dy.layout().shape().dims::<2>();
        let dz = floats(&y)
            .iter()
            .zip(floats(&dy))
            .map(|(&y, &g)| if y <= 0.0 { 0.0 } else { g })
            .collect::<Vec<f32>>();
        matrix(dz, rows, cols)
    }

    fn affine_gradients(
        x: FlexTensor,
        weight: FlexTensor,
        dy: FlexTensor,
        input_gradient: bool,
    ) -> Gradients3<Self> {
        let (x, w, dy) = (dense(x), dense(weight), dense(dy));
        let [batch, inputs, outputs] = sizes(&x, &w);
        assert_eq!(
            dy.layout().shape().dims::<2>(),
            [batch, outputs],
            "linear: the gradient has the output's shape"
        );
        let (x, w, dy) = (floats(&x), floats(&w), floats(&dy));
        let dx = input_gradient.then(|| input_gradient_of(w, dy, batch, inputs, outputs));
        let dw = weight_gradient_of(x, dy, batch, inputs, outputs);
        let db = bias_gradient_of(dy, outputs);
        (dx, matrix(dw, inputs, outputs), vector(db))
    }
}

/// `dx = dy·Wᵀ`, formed as `dxᵀ[i, b] = Σ_o W[i, o]·dy[b, o]` so that gemm reads W row by
/// row (the result stored column-major is `dx` row-major); split over the inputs.
fn input_gradient_of(
    w: &[f32],
    dy: &[f32],
    batch: usize,
    inputs: usize,
    outputs: usize,
) -> FlexTensor {
    let dx = new_product(
        [inputs, batch, outputs],
        Strided::row_major(w.as_ptr().cast_mut(), outputs),
        Strided::col_major(dy.as_ptr().cast_mut(), outputs),
        Order::ColMajor,
        Split::Rows,
    );
    matrix(dx, batch, inputs)
}

/// `dW[i, o] = Σ_b x[b, i]·dy[b, o]`, split over the inputs.
fn weight_gradient_of(
    x: &[f32],
    dy: &[f32],
    batch: usize,
    inputs: usize,
    outputs: usize,
) -> Vec<f32> {
    new_product(
        [inputs, outputs, batch],
        Strided::col_major(x.as_ptr().cast_mut(), inputs),
        Strided::row_major(dy.as_ptr().cast_mut(), outputs),
        Order::RowMajor,
        Split::Rows,
    )
}

/// `db[o] = Σ_b dy[b, o]`.
fn bias_gradient_of(dy: &[f32], outputs: usize) -> Vec<f32> {
    let mut db = vec![0.0f32; outputs];
    for row in dy.chunks_exact(outputs) {
        for (d, g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
    db
}

impl<B: LinearOps, C: CheckpointStrategy> LinearOps for Autodiff<B, C> {
    fn affine(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (w, w_node) = weight.into_parts();
        let (b, b_node) = bias.into_parts();
        match AffineBackward
            .prepare::<C>([x_node, w_node, b_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::affine(x.clone(), w.clone(), b, relu);
                prep.finish((x, w, relu.then(|| y.clone())), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::affine(x, w, b, relu)),
        }
    }

    /// The gradients as constants: nothing differentiates them again.
    fn affine_gradients(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        input_gradient: bool,
    ) -> Gradients3<Self> {
        let constant = FloatTensor::<Self>::new;
        let (dx, dw, db) = B::affine_gradients(
            x.into_primitive(),
            weight.into_primitive(),
            dy.into_primitive(),
            input_gradient,
        );
        (dx.map(constant), constant(dw), constant(db))
    }

    fn relu_gradient(y: FloatTensor<Self>, dy: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::relu_gradient(y.into_primitive(), dy.into_primitive()))
    }
}

/// The layer's backward pass; its state is the forward pass's input and weight, and its
/// output when a ReLU was applied.
#[derive(Debug)]
struct AffineBackward;

impl<B: LinearOps> Backward<B, 3> for AffineBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, Option<FloatTensor<B>>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, w_node, b_node] = ops.parents;
        let (x, w, relu_output) = ops.state;
        let mut dy = grads.consume::<B>(&ops.node);
        if let Some(y) = relu_output {
            dy = B::relu_gradient(y, dy);
        }
        let (dx, dw, db) = B::affine_gradients(x, w, dy, x_node.is_some());
        if let (Some(node), Some(dx)) = (x_node, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = w_node {
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = b_node {
            grads.register::<B>(node.id, db);
        }
    }
}

/// `[batch, inputs, outputs]` of an input and a weight. gemm trusts the sizes: a mismatch
/// would read past a buffer, so it stops here.
fn sizes(x: &FlexTensor, w: &FlexTensor) -> [usize; 3] {
    let [batch, inputs] = x.layout().shape().dims::<2>();
    let [rows, outputs] = w.layout().shape().dims::<2>();
    assert_eq!(
        rows, inputs,
        "linear: the input's width is the weight's rows"
    );
    [batch, inputs, outputs]
}

#[cfg(test)]
#[path = "linear_kernel_tests.rs"]
mod tests;
