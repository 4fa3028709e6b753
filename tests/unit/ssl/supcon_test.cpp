// SupCon / MoCo loss against a naive per-anchor transcription of eq. 2 in double precision.
#include "cltci/ssl/supcon.h"

#include "cltci/common/error.h"
#include "common_test_support.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

namespace cltci::ssl {
namespace {

torch::Tensor random_features(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, d}, gen, torch::kDouble);
}

/// Eq. 2 written out anchor by anchor: positives = kept keys with the anchor's id (plus its own
/// key), denominator = all kept keys (plus the own key). Anchors without positives are skipped.
struct NaiveSpec {
  torch::Tensor anchors, keys, own;  // raw features; normalised here
  std::vector<std::int64_t> anchor_ids, key_ids;
  std::vector<bool> key_valid;    // empty = all valid
  std::int64_t self_offset = -1;  // -1: none
  bool match_ids = true;
  double tau = 0.1;
  double scale = 1.0;
};

torch::Tensor naive_loss(const NaiveSpec& s) {
  namespace F = torch::nn::functional;
  const auto q = F::normalize(s.anchors, F::NormalizeFuncOptions().dim(1));
  const auto k = F::normalize(s.keys, F::NormalizeFuncOptions().dim(1));
  torch::Tensor own;
  if (s.own.defined()) own = F::normalize(s.own, F::NormalizeFuncOptions().dim(1));
  torch::Tensor total = torch::zeros({}, torch::kDouble);
  int included = 0;
  for (std::int64_t i = 0; i < q.size(0); ++i) {
    std::vector<torch::Tensor> denominator;
    std::vector<torch::Tensor> positives;
    if (own.defined()) {
      const auto o = (q[i] * own[i]).sum() / s.tau;
      denominator.push_back(o);
      positives.push_back(o);
    }
    for (std::int64_t j = 0; j < k.size(0); ++j) {
      if (!s.key_valid.empty() && !s.key_valid[j]) continue;
      if (s.self_offset >= 0 && j == i + s.self_offset) continue;
      const auto sim = (q[i] * k[j]).sum() / s.tau;
      denominator.push_back(sim);
      if (s.match_ids && s.key_ids[j] == s.anchor_ids[i]) positives.push_back(sim);
    }
    if (positives.empty()) continue;
    const auto log_denominator = torch::stack(denominator).exp().sum().log();
    torch::Tensor anchor_loss = torch::zeros({}, torch::kDouble);
    for (const auto& p : positives) anchor_loss = anchor_loss - (p - log_denominator);
    total = total + anchor_loss / static_cast<double>(positives.size());
    ++included;
  }
  return included == 0 ? total : total * s.scale / included;
}

torch::Tensor ids_tensor(const std::vector<std::int64_t>& ids) {
  return torch::tensor(ids, torch::kLong);
}

ContrastiveInputs inputs_of(const NaiveSpec& s,
                            const torch::Tensor& q,
                            const torch::Tensor& k,
                            const torch::Tensor& own) {
  ContrastiveInputs in;
  in.anchors = q;
  in.keys = k;
  in.own_keys = own;
  in.match_ids = s.match_ids;
  in.anchor_ids = ids_tensor(s.anchor_ids);
  in.key_ids = ids_tensor(s.key_ids);
  if (!s.key_valid.empty()) {
    std::vector<std::uint8_t> v(s.key_valid.begin(), s.key_valid.end());
    in.key_valid = torch::tensor(std::vector<std::int64_t>(v.begin(), v.end())).to(torch::kBool);
  }
  if (s.self_offset >= 0) in.self_offset = s.self_offset;
  return in;
}

/// Loss and gradients (anchors, keys) of one path.
struct Evaluated {
  torch::Tensor loss, grad_anchors, grad_keys, grad_own;
};

Evaluated evaluate(const NaiveSpec& s, const SupConOptions& options, bool naive, bool shared) {
  auto q = s.anchors.clone().requires_grad_(true);
  auto k = shared ? q : s.keys.clone().requires_grad_(true);
  torch::Tensor own;
  if (s.own.defined()) own = s.own.clone().requires_grad_(true);
  torch::Tensor loss;
  if (naive) {
    NaiveSpec t = s;
    t.anchors = q;
    t.keys = k;
    t.own = own;
    loss = naive_loss(t);
  } else {
    loss = contrastive_loss(inputs_of(s, q, k, own), options);
  }
  loss.backward();
  Evaluated e{loss.detach(), q.grad().clone(), shared ? torch::Tensor() : k.grad().clone(),
              own.defined() ? own.grad().clone() : torch::Tensor()};
  return e;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol, const char* what) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  const double err = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol) << what << ": max abs difference " << err;
}

void expect_same(const Evaluated& a, const Evaluated& b, double tol) {
  expect_close(a.loss, b.loss, tol, "loss");
  expect_close(a.grad_anchors, b.grad_anchors, tol, "d anchors");
  expect_close(a.grad_keys, b.grad_keys, tol, "d keys");
  expect_close(a.grad_own, b.grad_own, tol, "d own keys");
}

SupConOptions path_options(LossPath path, std::int64_t chunk_rows = 0) {
  SupConOptions o;
  o.temperature = 0.1;
  o.path = path;
  o.chunk_rows = chunk_rows;
  return o;
}

NaiveSpec self_contrast_spec(std::int64_t n,
                             std::int64_t d,
                             std::int64_t patients,
                             std::uint64_t seed) {
  NaiveSpec s;
  s.anchors = random_features(n, d, seed);
  s.keys = s.anchors;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  const auto ids = at::randint(patients, {n}, gen, torch::kLong);
  s.anchor_ids.assign(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + n);
  s.key_ids = s.anchor_ids;
  s.self_offset = 0;
  return s;
}

TEST(SupConLoss, FullAndChunkedMatchNaiveLoopInDouble) {
  const NaiveSpec s = self_contrast_spec(24, 8, 5, 11);
  const Evaluated reference = evaluate(s, {}, /*naive=*/true, /*shared=*/true);
  EXPECT_GT(reference.loss.item<double>(), 0.0);
  expect_same(evaluate(s, path_options(LossPath::kFull), false, true), reference, 1e-6);
  expect_same(evaluate(s, path_options(LossPath::kChunked, 5), false, true), reference, 1e-6);
}

TEST(SupConLoss, SeparateKeysWithValidityMaskMatchNaiveLoop) {
  NaiveSpec s;
  s.anchors = random_features(10, 6, 3);
  s.keys = random_features(17, 6, 4);
  s.anchor_ids = {0, 1, 2, 3, 0, 1, 2, 3, 9, 9};
  s.key_ids = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 9};
  s.key_valid = {true, true, false, true,  true, true, true, false, true,
                 true, true, true,  false, true, true, true, false};
  s.self_offset = 2;  // anchor i is key i + 2, as for a rank's rows inside gathered keys
  const Evaluated reference = evaluate(s, {}, true, false);
  expect_same(evaluate(s, path_options(LossPath::kFull), false, false), reference, 1e-6);
  for (std::int64_t rows : {1, 3, 4, 10}) {
    SCOPED_TRACE(rows);
    expect_same(evaluate(s, path_options(LossPath::kChunked, rows), false, false), reference, 1e-6);
  }
}

TEST(SupConLoss, ChunkedEqualsFullForChunkSizesNotDividingN) {
  const NaiveSpec s = self_contrast_spec(37, 16, 7, 21);
  const Evaluated full = evaluate(s, path_options(LossPath::kFull), false, true);
  for (std::int64_t rows : {1, 4, 7, 36, 37, 100}) {
    SCOPED_TRACE(rows);
    expect_same(evaluate(s, path_options(LossPath::kChunked, rows), false, true), full, 1e-10);
  }
}

TEST(SupConLoss, ChunkedEqualsFullInFloat32) {
  NaiveSpec s = self_contrast_spec(64, 32, 9, 5);
  s.anchors = s.anchors.to(torch::kFloat);
  s.keys = s.anchors;
  const Evaluated full = evaluate(s, path_options(LossPath::kFull), false, true);
  const Evaluated chunked = evaluate(s, path_options(LossPath::kChunked, 10), false, true);
  EXPECT_EQ(chunked.loss.scalar_type(), torch::kFloat);
  expect_same(chunked, full, 2e-5);
}

TEST(SupConLoss, AnchorsWithoutPositiveAreLeftOutOfTheMean) {
  // Keys only: ids 7 and 8 of the anchors appear nowhere among the keys.
  NaiveSpec s;
  s.anchors = random_features(4, 5, 8);
  s.keys = random_features(6, 5, 9);
  s.anchor_ids = {1, 7, 2, 8};
  s.key_ids = {1, 1, 2, 3, 3, 2};
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    const Evaluated all = evaluate(s, path_options(path, 1), false, false);
    NaiveSpec kept = s;
    kept.anchors = torch::stack({s.anchors[0], s.anchors[2]});
    kept.anchor_ids = {1, 2};
    const Evaluated only = evaluate(kept, path_options(path, 1), false, false);
    // Same value as the loss over the two anchors that have positives: a mean over 2, not 4.
    EXPECT_NEAR(all.loss.item<double>(), only.loss.item<double>(), 1e-12);
    // The left-out anchors get no gradient.
    EXPECT_EQ(all.grad_anchors[1].abs().max().item<double>(), 0.0);
    EXPECT_EQ(all.grad_anchors[3].abs().max().item<double>(), 0.0);
    EXPECT_GT(all.grad_anchors[0].abs().max().item<double>(), 0.0);
  }
}

TEST(SupConLoss, NoAnchorWithPositiveGivesZeroLossAndZeroGradients) {
  NaiveSpec s;
  s.anchors = random_features(3, 4, 1);
  s.keys = random_features(5, 4, 2);
  s.anchor_ids = {10, 11, 12};
  s.key_ids = {0, 1, 2, 3, 4};
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    const Evaluated e = evaluate(s, path_options(path, 2), false, false);
    EXPECT_EQ(e.loss.item<double>(), 0.0);
    EXPECT_EQ(e.grad_anchors.abs().max().item<double>(), 0.0);
    EXPECT_EQ(e.grad_keys.abs().max().item<double>(), 0.0);
    EXPECT_FALSE(torch::isnan(e.grad_anchors).any().item<bool>());
  }
}

TEST(SupConLoss, NoLabelsEqualsNtXentCrossEntropy) {
  // NT-Xent (SimCLR): for view v of image i the target is the other view, the candidates all
  // 2N-1 other views. Written as cross-entropy over a logit matrix with the diagonal removed.
  const std::int64_t n = 6;
  const auto z = random_features(2 * n, 8, 33);
  const auto features = torch::stack({z.slice(0, 0, n), z.slice(0, n, 2 * n)}, 1);  // [N, 2, D]
  namespace F = torch::nn::functional;
  const auto u = F::normalize(z, F::NormalizeFuncOptions().dim(1));
  auto logits = torch::mm(u, u.t()) / 0.1;
  logits =
      logits.masked_fill(torch::eye(2 * n, torch::kBool), -std::numeric_limits<double>::infinity());
  const auto targets = torch::cat({torch::arange(n, 2 * n), torch::arange(0, n)});
  const double expected = F::cross_entropy(logits, targets).item<double>();
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    const double got = supcon_loss(features, torch::Tensor(), path_options(path, 5)).item<double>();
    EXPECT_NEAR(got, expected, 1e-10);
  }
}

TEST(SupConLoss, PatientLabelsAddSamePatientViewsAsPositives) {
  const std::int64_t n = 5;
  const auto features = random_features(2 * n, 8, 44).view({n, 2, 8});
  const auto labels = torch::tensor({3, 3, 4, 5, 4}, torch::kLong);
  // Explicit view-major transcription through the naive loop.
  NaiveSpec s;
  s.anchors = features.transpose(0, 1).reshape({2 * n, 8});
  s.keys = s.anchors;
  s.anchor_ids = {3, 3, 4, 5, 4, 3, 3, 4, 5, 4};
  s.key_ids = s.anchor_ids;
  s.self_offset = 0;
  const double expected = naive_loss(s).item<double>();
  SupConOptions options;
  options.base_temperature = 0.07;  // the authors' scaling: loss x 0.1/0.07
  const double scaled = supcon_loss(features, labels, options).item<double>();
  EXPECT_NEAR(scaled, expected * 0.1 / 0.07, 1e-10);
  const double plain = supcon_loss(features, labels).item<double>();
  EXPECT_NEAR(plain, expected, 1e-10);
  EXPECT_GT(std::abs(plain - supcon_loss(features, torch::Tensor()).item<double>()), 1e-6);
}

TEST(SupConLoss, AutoPathSwitchesToChunkedOverBudgetWithSameValue) {
  const NaiveSpec s = self_contrast_spec(40, 8, 6, 2);
  SupConOptions tiny;
  tiny.memory_budget_bytes = 1024;  // forces kAuto onto the chunked path with 1024/(40*16) rows
  const Evaluated a = evaluate(s, tiny, false, true);
  const Evaluated b = evaluate(s, path_options(LossPath::kFull), false, true);
  expect_same(a, b, 1e-10);
  EXPECT_EQ(chunk_rows_for_budget(40, 1024, 16), 1);
  EXPECT_EQ(chunk_rows_for_budget(65536, std::int64_t{256} << 20, 8), 512);
}

TEST(SupConLoss, MoCoQueueMatchesNaiveLoopAndIgnoresInvalidSlots) {
  NaiveSpec s;
  s.anchors = random_features(4, 6, 71);
  s.own = random_features(4, 6, 72);
  s.keys = random_features(9, 6, 73);  // the queue
  s.anchor_ids = {0, 1, 2, 0};
  s.key_ids = {0, 0, 1, 5, 2, 0, 1, 6, 2};
  s.key_valid = {true, false, true, true, true, false, true, true, false};
  for (const bool cltci : {true, false}) {
    SCOPED_TRACE(cltci);
    NaiveSpec t = s;
    t.match_ids = cltci;
    const Evaluated reference = evaluate(t, {}, true, false);
    for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
      expect_same(evaluate(t, path_options(path, 3), false, false), reference, 1e-6);
      // The public MoCo entry point: same value, no gradient into the queue or the keys.
      auto q = t.anchors.clone().requires_grad_(true);
      auto loss = moco_loss(q, t.own, ids_tensor(t.anchor_ids), t.keys, ids_tensor(t.key_ids),
                            inputs_of(t, q, t.keys, t.own).key_valid,
                            cltci ? MoCoPositives::kPatient : MoCoPositives::kOwnKey,
                            path_options(path, 3));
      EXPECT_NEAR(loss.item<double>(), reference.loss.item<double>(), 1e-6);
    }
  }
  // Invalid slots are neither positive nor negative: changing their content or ids changes
  // nothing.
  NaiveSpec changed = s;
  changed.keys = s.keys.clone();
  changed.keys[1] = random_features(1, 6, 99)[0];
  changed.key_ids[5] = 2;
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    EXPECT_NEAR(evaluate(changed, path_options(path, 2), false, false).loss.item<double>(),
                evaluate(s, path_options(path, 2), false, false).loss.item<double>(), 1e-12);
  }
}

TEST(SupConLoss, VanillaMoCoIsCrossEntropyWithTargetZero) {
  namespace F = torch::nn::functional;
  const auto q = random_features(5, 8, 1);
  const auto k = random_features(5, 8, 2);
  const auto queue = random_features(12, 8, 3);
  const auto qn = F::normalize(q, F::NormalizeFuncOptions().dim(1));
  const auto kn = F::normalize(k, F::NormalizeFuncOptions().dim(1));
  const auto un = F::normalize(queue, F::NormalizeFuncOptions().dim(1));
  const auto logits = torch::cat({(qn * kn).sum(1, true), torch::mm(qn, un.t())}, 1) / 0.2;
  const double expected = F::cross_entropy(logits, torch::zeros({5}, torch::kLong)).item<double>();
  SupConOptions options;
  options.temperature = 0.2;
  const auto ids = torch::zeros({5}, torch::kLong);
  const auto queue_ids = torch::zeros({12}, torch::kLong);  // all "same patient": ignored
  const auto valid = torch::ones({12}, torch::kBool);
  EXPECT_NEAR(
      moco_loss(q, k, ids, queue, queue_ids, valid, MoCoPositives::kOwnKey, options).item<double>(),
      expected, 1e-10);
  // CL-TCI counts those queue entries as positives: a different value.
  EXPECT_GT(std::abs(moco_loss(q, k, ids, queue, queue_ids, valid, MoCoPositives::kPatient, options)
                         .item<double>() -
                     expected),
            1e-3);
}

TEST(SupConLoss, HalfPrecisionInputsGetFloatGradients) {
  const auto z = random_features(8, 4, 5).to(torch::kBFloat16).requires_grad_(true);
  const auto loss =
      supcon_loss(z.view({4, 2, 4}), torch::Tensor(), path_options(LossPath::kChunked, 3));
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  loss.backward();
  EXPECT_EQ(z.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::isfinite(z.grad()).all().item<bool>());
}

TEST(SupConLoss, BadValuesAreRejectedWithClearMessages) {
  const auto f = random_features(8, 4, 5).view({4, 2, 4});
  for (const double tau : {0.0, -0.1, std::numeric_limits<double>::quiet_NaN()}) {
    SupConOptions o;
    o.temperature = tau;
    try {
      supcon_loss(f, torch::Tensor(), o);
      ADD_FAILURE() << "tau " << tau << " accepted";
    } catch (const common::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("temperature must be a finite number > 0"),
                std::string::npos)
          << e.what();
    }
  }
  SupConOptions bad_base;
  bad_base.base_temperature = 0.0;
  EXPECT_THROW(supcon_loss(f, torch::Tensor(), bad_base), common::InputError);
  EXPECT_THROW(supcon_loss(f.view({8, 4}), torch::Tensor()), c10::Error);
  EXPECT_THROW(supcon_loss(f, torch::zeros({3}, torch::kLong)), c10::Error);
  EXPECT_THROW(supcon_loss(f, torch::zeros({4}, torch::kFloat)), c10::Error);
}

TEST(SupConLoss, ChunkedMatchesCpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  NaiveSpec s;
  s.anchors = random_features(300, 32, 1);
  s.keys = random_features(1000, 32, 2);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto aid = at::randint(20, {300}, gen, torch::kLong);
  const auto kid = at::randint(20, {1000}, gen, torch::kLong);
  s.anchor_ids.assign(aid.data_ptr<std::int64_t>(), aid.data_ptr<std::int64_t>() + 300);
  s.key_ids.assign(kid.data_ptr<std::int64_t>(), kid.data_ptr<std::int64_t>() + 1000);
  s.key_valid.assign(1000, true);
  for (int j = 0; j < 1000; j += 7) s.key_valid[j] = false;
  s.self_offset = 100;
  for (const auto dtype : {torch::kDouble, torch::kFloat}) {
    const double tol = dtype == torch::kDouble ? 1e-9 : 2e-5;
    const auto cpu_in = inputs_of(s, s.anchors.to(dtype), s.keys.to(dtype), torch::Tensor());
    auto run = [&](const torch::Device& device, LossPath path) {
      ContrastiveInputs in = cpu_in;
      in.anchors = cpu_in.anchors.to(device).requires_grad_(true);
      in.keys = cpu_in.keys.to(device).requires_grad_(true);
      in.anchor_ids = cpu_in.anchor_ids.to(device);
      in.key_ids = cpu_in.key_ids.to(device);
      in.key_valid = cpu_in.key_valid.to(device);
      auto loss = contrastive_loss(in, path_options(path, 64));
      loss.backward();
      return Evaluated{loss.detach().cpu(), in.anchors.grad().cpu(), in.keys.grad().cpu(), {}};
    };
    const Evaluated cpu = run(torch::kCPU, LossPath::kChunked);
    expect_same(run(torch::kCUDA, LossPath::kChunked), cpu, tol);
    expect_same(run(torch::kCUDA, LossPath::kFull), cpu, tol);
  }
}

TEST(SupConLoss, MoCoQueueMatchesCpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const auto q = random_features(16, 32, 1).to(torch::kFloat);
  const auto k = random_features(16, 32, 2).to(torch::kFloat);
  const auto queue = random_features(200, 32, 3).to(torch::kFloat);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const auto qid = at::randint(5, {16}, gen, torch::kLong);
  const auto kid = at::randint(5, {200}, gen, torch::kLong);
  const auto valid = at::rand({200}, gen) > 0.3;
  const auto cpu = moco_loss(q, k, qid, queue, kid, valid, MoCoPositives::kPatient,
                             path_options(LossPath::kChunked, 5));
  const torch::Device gpu(torch::kCUDA);
  const auto cuda =
      moco_loss(q.to(gpu), k.to(gpu), qid.to(gpu), queue.to(gpu), kid.to(gpu), valid.to(gpu),
                MoCoPositives::kPatient, path_options(LossPath::kChunked, 5));
  EXPECT_NEAR(cuda.item<double>(), cpu.item<double>(), 2e-5);
}

}  // namespace
}  // namespace cltci::ssl
