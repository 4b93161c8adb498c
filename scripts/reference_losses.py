#!/usr/bin/env python3
"""Reference values for src/distill/methods, computed with the authors' PyTorch formulas.

Each function below is the loss as its authors' code computes it (copied in shape, not
imported: the repositories are not packages). Run with a Python that has torch:
    python3 scripts/reference_losses.py
and paste the printed table into src/distill/methods/reference.rs.
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

STUDENT = [[2.0, -1.0, 0.5, 0.0, 1.5],
           [-0.5, 3.0, 1.0, -2.0, 0.0],
           [0.3, 0.2, -0.1, 2.5, -1.0],
           [1.0, 1.0, 1.0, 1.0, 0.5]]
TEACHER = [[4.0, -2.0, 1.0, -1.0, 2.5],
           [-1.0, 5.0, 2.0, -3.0, 0.5],
           [0.0, 1.0, -2.0, 3.0, -0.5],
           [2.0, -1.0, 0.0, 1.5, 0.5]]
LABELS = [0, 1, 3, 2]
# Extreme logits: the references' log(softmax) underflows here.
STUDENT_X = [[50.0, -50.0, 0.0], [-50.0, 50.0, 10.0]]
TEACHER_X = [[-50.0, 50.0, 0.0], [50.0, -50.0, -10.0]]
LABELS_X = [0, 1]


# --- mdistiller/distillers/DKD.py -------------------------------------------------------------
def _get_gt_mask(logits, target):
    target = target.reshape(-1)
    return torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1).bool()


def _get_other_mask(logits, target):
    target = target.reshape(-1)
    return torch.ones_like(logits).scatter_(1, target.unsqueeze(1), 0).bool()


def cat_mask(t, mask1, mask2):
    t1 = (t * mask1).sum(dim=1, keepdims=True)
    t2 = (t * mask2).sum(1, keepdims=True)
    return torch.cat([t1, t2], dim=1)


def dkd_parts(logits_student, logits_teacher, target, temperature):
    gt_mask = _get_gt_mask(logits_student, target)
    other_mask = _get_other_mask(logits_student, target)
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    pred_student = cat_mask(pred_student, gt_mask, other_mask)
    pred_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    log_pred_student = torch.log(pred_student)
    tckd = (F.kl_div(log_pred_student, pred_teacher, reduction="sum")
            * (temperature ** 2) / target.shape[0])
    pred_teacher_part2 = F.softmax(logits_teacher / temperature - 1000.0 * gt_mask, dim=1)
    log_pred_student_part2 = F.log_softmax(logits_student / temperature - 1000.0 * gt_mask, dim=1)
    nckd = (F.kl_div(log_pred_student_part2, pred_teacher_part2, reduction="sum")
            * (temperature ** 2) / target.shape[0])
    return tckd, nckd


# --- hunto/image_classification_sota lib/models/losses/dist_kd.py -----------------------------
def cosine_similarity(a, b, eps=1e-8):
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def pearson_correlation(a, b, eps=1e-8):
    return cosine_similarity(a - a.mean(1).unsqueeze(1), b - b.mean(1).unsqueeze(1), eps)


def inter_class_relation(y_s, y_t):
    return 1 - pearson_correlation(y_s, y_t).mean()


def intra_class_relation(y_s, y_t):
    return inter_class_relation(y_s.transpose(0, 1), y_t.transpose(0, 1))


def dist_parts(z_s, z_t, tau):
    y_s = (z_s / tau).softmax(dim=1)
    y_t = (z_t / tau).softmax(dim=1)
    return tau ** 2 * inter_class_relation(y_s, y_t), tau ** 2 * intra_class_relation(y_s, y_t)


# --- sunshangquan/logit-standardization-KD mdistiller/distillers/KD.py ------------------------
def normalize(logit):
    mean = logit.mean(dim=-1, keepdims=True)
    stdv = logit.std(dim=-1, keepdims=True)
    return (logit - mean) / (1e-7 + stdv)


def ls_kd(logits_student_in, logits_teacher_in, temperature):
    logits_student = normalize(logits_student_in)
    logits_teacher = normalize(logits_teacher_in)
    log_pred_student = F.log_softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    loss_kd = F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean()
    return loss_kd * temperature ** 2


# --- yzd-v/cls_KD mmcls/models/dis_losses/nkd.py ----------------------------------------------
def nkd_parts(logit_s, logit_t, gt_label, temp):
    label = gt_label.view(len(gt_label), 1)
    N, c = logit_s.shape
    s_i = F.log_softmax(logit_s, dim=1)
    t_i = F.softmax(logit_t, dim=1)
    s_t = torch.gather(s_i, 1, label)
    t_t = torch.gather(t_i, 1, label).detach()
    loss_t = -(t_t * s_t).mean()
    mask = torch.ones_like(logit_s).scatter_(1, label, 0).bool()
    logit_s = logit_s[mask].reshape(N, -1)
    logit_t = logit_t[mask].reshape(N, -1)
    S_i = F.log_softmax(logit_s / temp, dim=1)
    T_i = F.softmax(logit_t / temp, dim=1)
    loss_non = (T_i * S_i).sum(dim=1).mean()
    loss_non = -(temp ** 2) * loss_non  # before gamma
    return loss_t, loss_non


# --- yuanli2333/Teacher-free-Knowledge-Distillation my_loss_function.py -----------------------
def tf_kd_regulariser(outputs, labels, correct_prob, T):
    K = outputs.size(1)
    teacher_soft = torch.ones_like(outputs) * (1 - correct_prob) / (K - 1)
    for i in range(outputs.shape[0]):
        teacher_soft[i, labels[i]] = correct_prob
    return torch.nn.KLDivLoss()(F.log_softmax(outputs, dim=1), F.softmax(teacher_soft / T, dim=1))


def label_smoothing(outputs, labels, correct_prob):
    K = outputs.size(1)
    u = torch.full_like(outputs, (1 - correct_prob) / (K - 1))
    u[torch.arange(len(labels)), labels] = correct_prob
    return -(u * F.log_softmax(outputs, dim=1)).sum(1).mean()


def grad(f, s):
    s = s.clone().requires_grad_(True)
    f(s).backward()
    return s.grad


def main():
    s, t, y = torch.tensor(STUDENT), torch.tensor(TEACHER), torch.tensor(LABELS)
    rows = []
    for T in (1.0, 4.0, 10.0):
        tckd, nckd = dkd_parts(s, t, y, T)
        rows.append(f"dkd T={T}: tckd {tckd.item():.9f} nckd {nckd.item():.9f}")
    for tau in (1.0, 4.0):
        inter, intra = dist_parts(s, t, tau)
        rows.append(f"dist tau={tau}: inter {inter.item():.9f} intra {intra.item():.9f}")
    for T in (1.0, 2.0):
        rows.append(f"ls_kd T={T}: {ls_kd(s, t, T).item():.9f}")
    for T in (1.0, 4.0):
        lt, ln = nkd_parts(s, t, y, T)
        rows.append(f"nkd T={T}: target {lt.item():.9f} non_target {ln.item():.9f}")
    for a, T in ((0.99, 20.0), (0.9, 1.0)):
        rows.append(f"tf_kd a={a} T={T}: {tf_kd_regulariser(s, y, a, T).item():.9f}")
    rows.append(f"label_smoothing a=0.9: {label_smoothing(s, y, 0.9).item():.9f}")
    # Extreme logits: what the references give (NaN / inf shows where they break).
    sx, tx, yx = torch.tensor(STUDENT_X), torch.tensor(TEACHER_X), torch.tensor(LABELS_X)
    tckd, nckd = dkd_parts(sx, tx, yx, 1.0)
    rows.append(f"extreme dkd T=1 (reference): tckd {tckd.item()} nckd {nckd.item()}")
    # The exact value, from the same formulas in log space (float64).
    def dkd_log_space(zs, zt, lab, T):
        m = _get_gt_mask(zs, lab).double()
        def blog(z):
            z = z / T
            lse = torch.logsumexp(z, 1, keepdim=True)
            tgt = (z * m).sum(1, keepdim=True)
            oth = torch.logsumexp(z - 1000.0 * m, 1, keepdim=True)
            return torch.cat([tgt - lse, oth - lse], 1)
        lp, lq = blog(zt), blog(zs)
        tc = (lp.exp() * (lp - lq)).sum() / zs.shape[0] * T * T
        lp2 = F.log_softmax(zt / T - 1000.0 * m, 1)
        lq2 = F.log_softmax(zs / T - 1000.0 * m, 1)
        nc = (lp2.exp() * (lp2 - lq2)).sum() / zs.shape[0] * T * T
        return tc, nc
    tc, nc = dkd_log_space(sx, tx, yx, 1.0)
    rows.append(f"extreme dkd T=1 (log space): tckd {tc.item():.9f} nckd {nc.item():.9f}")
    # Logits 120 apart: in float32 the reference's log(softmax) gives inf and NaN here
    # (run it with torch.set_default_dtype(torch.float32) to see); the exact values:
    for zs, zt in (([[60.0, -60.0, -60.0]], [[-60.0, 60.0, 0.0]]),
                   ([[60.0, -60.0, -60.0]], [[60.0, -60.0, -60.0]])):
        tc, nc = dkd_log_space(torch.tensor(zs), torch.tensor(zt), torch.tensor([0]), 1.0)
        rows.append(f"dkd T=1 {zs} vs {zt} (log space): tckd {tc.item():.9f} nckd {nc.item():.9f}")
    lt, ln = nkd_parts(sx, tx, yx, 1.0)
    rows.append(f"extreme nkd T=1: target {lt.item():.9f} non_target {ln.item():.9f}")
    inter, intra = dist_parts(sx, tx, 1.0)
    rows.append(f"extreme dist tau=1: inter {inter.item():.9f} intra {intra.item():.9f}")
    rows.append(f"extreme ls_kd T=2: {ls_kd(sx, tx, 2.0).item():.9f}")
    # Gradients with respect to the student logits, first row, for the finite-difference check.
    g = grad(lambda z: sum(dkd_parts(z, t, y, 4.0)), s)
    rows.append("dkd T=4 grad row 0: " + " ".join(f"{v:.9f}" for v in g[0].tolist()))
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
