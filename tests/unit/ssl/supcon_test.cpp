// SupCon / MoCo loss against a naive per-anchor transcription of eq. 2 (and of its weighted form
// for the positive rules of positives.h) in double precision.
#include "cltci/ssl/supcon.h"

#include "cltci/common/error.h"
#include "cltci/ssl/positives.h"
#include "common_test_support.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cltci::ssl {
namespace {

torch::Tensor random_features(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, d}, gen, torch::kDouble);
}

using testing::kNaN;

/// Eq. 2 written out anchor by anchor: positives = kept keys with the anchor's id (plus its own
/// key), denominator = all kept keys (plus the own key). Anchors without positives are skipped.
/// With a positive rule each positive carries the weight naive_weight gives (the rule's text
/// transcribed pair by pair) and loss_i = -sum_p w_p (s_p - lse) / sum_p w_p.
struct NaiveSpec {
  torch::Tensor anchors, keys, own;  // raw features; normalised here
  std::vector<std::int64_t> anchor_ids, key_ids;
  std::vector<bool> key_valid;    // empty = all valid
  std::int64_t self_offset = -1;  // -1: none
  bool match_ids = true;
  double tau = 0.1;
  double scale = 1.0;
  PositiveOptions positives;
  std::vector<double> anchor_days, key_days;              // empty = not given; NaN = undated
  std::vector<std::int64_t> anchor_studies, key_studies;  // empty = not given
  std::vector<std::int64_t> anchor_images, key_images;    // empty = not given
};

double naive_weight(const NaiveSpec& s, std::int64_t i, std::int64_t j) {
  if (!s.match_ids) return 0.0;
  if (!s.anchor_images.empty() && s.anchor_images[i] >= 0 &&
      s.anchor_images[i] == s.key_images[j]) {
    return 1.0;
  }
  if (s.anchor_ids[i] != s.key_ids[j]) return 0.0;
  switch (s.positives.rule) {
    case PositiveRule::kPatient:
      return 1.0;
    case PositiveRule::kStudy:
      return s.anchor_studies[i] >= 0 && s.anchor_studies[i] == s.key_studies[j] ? 1.0 : 0.0;
    case PositiveRule::kWindow:
    case PositiveRule::kWeighted: {
      if (std::isnan(s.anchor_days[i]) || std::isnan(s.key_days[j])) return 0.0;
      const double dt = std::abs(s.anchor_days[i] - s.key_days[j]);
      if (s.positives.rule == PositiveRule::kWindow) return dt <= s.positives.max_days ? 1.0 : 0.0;
      return std::exp(-dt / s.positives.time_scale_days);
    }
  }
  return 0.0;
}

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
    std::vector<std::pair<double, torch::Tensor>> positives;  // (weight, logit)
    double weight_sum = 0.0;
    if (own.defined()) {
      const auto o = (q[i] * own[i]).sum() / s.tau;
      denominator.push_back(o);
      positives.emplace_back(1.0, o);
      weight_sum += 1.0;
    }
    for (std::int64_t j = 0; j < k.size(0); ++j) {
      if (!s.key_valid.empty() && !s.key_valid[j]) continue;
      if (s.self_offset >= 0 && j == i + s.self_offset) continue;
      const auto sim = (q[i] * k[j]).sum() / s.tau;
      denominator.push_back(sim);
      const double w = naive_weight(s, i, j);
      if (w > 0.0) {
        positives.emplace_back(w, sim);
        weight_sum += w;
      }
    }
    if (positives.empty()) continue;
    const auto log_denominator = torch::stack(denominator).exp().sum().log();
    torch::Tensor anchor_loss = torch::zeros({}, torch::kDouble);
    for (const auto& [w, p] : positives) anchor_loss = anchor_loss - w * (p - log_denominator);
    total = total + anchor_loss / weight_sum;
    ++included;
  }
  return included == 0 ? total : total * s.scale / included;
}

torch::Tensor ids_tensor(const std::vector<std::int64_t>& ids) {
  return torch::tensor(ids, torch::kLong);
}

torch::Tensor optional_tensor(const std::vector<std::int64_t>& values) {
  return values.empty() ? torch::Tensor() : torch::tensor(values, torch::kLong);
}

torch::Tensor optional_tensor(const std::vector<double>& values) {
  return values.empty() ? torch::Tensor() : torch::tensor(values, torch::kDouble);
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
  in.anchor_days = optional_tensor(s.anchor_days);
  in.key_days = optional_tensor(s.key_days);
  in.anchor_studies = optional_tensor(s.anchor_studies);
  in.key_studies = optional_tensor(s.key_studies);
  in.anchor_images = optional_tensor(s.anchor_images);
  in.key_images = optional_tensor(s.key_images);
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
    SupConOptions with_rule = options;
    with_rule.positives = s.positives;
    loss = contrastive_loss(inputs_of(s, q, k, own), with_rule);
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

// ---- Positive rules (positives.h) in the loss ----

PositiveOptions rule_of(PositiveRule rule, double parameter = 0.0) {
  PositiveOptions o;
  o.rule = rule;
  if (rule == PositiveRule::kWindow) o.max_days = parameter;
  if (rule == PositiveRule::kWeighted) o.time_scale_days = parameter;
  return o;
}

/// The rules the value tests run through (the window and scale sized to the days used below).
std::vector<PositiveOptions> all_rules() {
  return {rule_of(PositiveRule::kPatient), rule_of(PositiveRule::kStudy),
          rule_of(PositiveRule::kWindow, 10.0), rule_of(PositiveRule::kWeighted, 20.0)};
}

/// Days in [0, 60) on a quarter-day grid (so that some pairs share a time), every
/// `undated_every`-th entry undated.
std::vector<double> random_days(std::int64_t n, std::int64_t undated_every, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto t = at::randint(240, {n}, gen, torch::kLong);
  std::vector<double> days(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    days[i] = i % undated_every == 0 ? kNaN : static_cast<double>(t[i].item<std::int64_t>()) / 4;
  }
  return days;
}

/// Studies 0..2, every fourth entry unknown (-1).
std::vector<std::int64_t> some_studies(std::int64_t n) {
  std::vector<std::int64_t> studies(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) studies[i] = i % 4 == 1 ? -1 : i % 3;
  return studies;
}

TEST(SupConPositives, SelfContrastWithViewPairsMatchesNaiveLoopForEveryRule) {
  // Rows i and i + half are two views of image i: same patient, time, study and identity.
  const std::int64_t half = 15;
  NaiveSpec s = self_contrast_spec(2 * half, 8, 4, 11);
  const std::vector<double> days = random_days(half, 4, 12);
  const std::vector<std::int64_t> studies = some_studies(half);
  for (std::int64_t i = 0; i < 2 * half; ++i) {
    s.anchor_ids[i] = s.anchor_ids[i % half];
    s.anchor_days.push_back(days[i % half]);
    s.anchor_studies.push_back(studies[i % half]);
    s.anchor_images.push_back(i % half);
  }
  s.key_ids = s.anchor_ids;
  s.key_days = s.anchor_days;
  s.key_studies = s.anchor_studies;
  s.key_images = s.anchor_images;
  for (const PositiveOptions& rule : all_rules()) {
    SCOPED_TRACE(to_string(rule.rule));
    s.positives = rule;
    const Evaluated reference = evaluate(s, {}, /*naive=*/true, /*shared=*/true);
    EXPECT_GT(reference.loss.item<double>(), 0.0);
    expect_same(evaluate(s, path_options(LossPath::kFull), false, true), reference, 1e-9);
    for (std::int64_t rows : {1, 4, 7, 30}) {
      SCOPED_TRACE(rows);
      expect_same(evaluate(s, path_options(LossPath::kChunked, rows), false, true), reference,
                  1e-9);
    }
  }
}

TEST(SupConPositives, SeparateKeysWithValidityMatchNaiveLoopForEveryRule) {
  NaiveSpec s;
  s.anchors = random_features(10, 6, 3);
  s.keys = random_features(17, 6, 4);
  s.anchor_ids = {0, 1, 2, 3, 0, 1, 2, 3, 9, 9};
  s.key_ids = {0, 1, 0, 1, 2, 3, 0, 1, 2, 3, 9, 9, 0, 1, 2, 3, 9};
  s.key_valid = {true, true, false, true,  true, true, true, false, true,
                 true, true, true,  false, true, true, true, false};
  s.self_offset = 2;  // anchor i is key i + 2: same attributes
  s.key_days = random_days(17, 5, 21);
  s.key_studies = some_studies(17);
  for (std::int64_t j = 0; j < 17; ++j) s.key_images.push_back(100 + j);
  for (std::int64_t i = 0; i < 10; ++i) {
    s.anchor_days.push_back(s.key_days[i + 2]);
    s.anchor_studies.push_back(s.key_studies[i + 2]);
    s.anchor_images.push_back(s.key_images[i + 2]);
  }
  // Key 14 is another view of anchor 1's image, undated and of unknown study: always a positive.
  s.key_images[14] = s.anchor_images[1];
  s.key_ids[14] = s.anchor_ids[1];
  s.key_days[14] = kNaN;
  s.key_studies[14] = -1;
  for (const PositiveOptions& rule : all_rules()) {
    SCOPED_TRACE(to_string(rule.rule));
    s.positives = rule;
    const Evaluated reference = evaluate(s, {}, true, false);
    expect_same(evaluate(s, path_options(LossPath::kFull), false, false), reference, 1e-9);
    for (std::int64_t rows : {1, 3, 4, 10}) {
      SCOPED_TRACE(rows);
      expect_same(evaluate(s, path_options(LossPath::kChunked, rows), false, false), reference,
                  1e-9);
    }
  }
}

TEST(SupConPositives, MoCoOwnKeysAndInvalidSlotMatchNaiveLoopForEveryRule) {
  NaiveSpec s;
  s.anchors = random_features(5, 6, 71);
  s.own = random_features(5, 6, 72);
  s.keys = random_features(12, 6, 73);  // the queue
  s.anchor_ids = {0, 1, 2, 0, 3};
  s.anchor_days = {10.0, kNaN, 30.0, 12.5, 40.0};
  s.anchor_studies = {0, 1, -1, 0, 2};
  s.anchor_images = {500, 501, 502, 503, 504};
  s.key_ids = {0, 0, 1, 5, 2, 0, 1, 6, 2, 0, 3, 0};
  s.key_days = {10.0, 10.0, 3.0, 1.0, 30.0, 25.0, kNaN, 2.0, 31.0, kNaN, 47.0, 0.5};
  s.key_studies = {0, 0, 1, 0, -1, 1, 1, 0, -1, 0, 2, 0};
  s.key_images = {1, 2, 3, 4, 5, 6, 7, 8, 9, 500, 11, 12};  // key 9: anchor 0's image again
  // Slot 1 would be anchor 0's closest positive (same patient, time and study): invalid slots are
  // neither positive nor negative.
  s.key_valid = {true, false, true, true, true, true, true, true, true, true, true, false};
  for (const PositiveOptions& rule : all_rules()) {
    SCOPED_TRACE(to_string(rule.rule));
    s.positives = rule;
    const Evaluated reference = evaluate(s, {}, true, false);
    for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
      SCOPED_TRACE(static_cast<int>(path));
      expect_same(evaluate(s, path_options(path, 2), false, false), reference, 1e-9);
      // The public MoCo entry point: same value.
      MoCoLossInputs in;
      in.queries = s.anchors;
      in.keys = s.own;
      in.query = {ids_tensor(s.anchor_ids), optional_tensor(s.anchor_days),
                  optional_tensor(s.anchor_studies), optional_tensor(s.anchor_images)};
      in.queue_keys = s.keys;
      in.queue = {ids_tensor(s.key_ids), optional_tensor(s.key_days),
                  optional_tensor(s.key_studies), optional_tensor(s.key_images)};
      in.queue_valid = inputs_of(s, s.anchors, s.keys, s.own).key_valid;
      SupConOptions options = path_options(path, 2);
      options.positives = rule;
      EXPECT_NEAR(moco_loss(in, options).item<double>(), reference.loss.item<double>(), 1e-9);
    }
  }
}

TEST(SupConPositives, PatientRuleThroughTheNewOverloadsIsTodaysLoss) {
  const std::int64_t n = 5;
  const auto features = random_features(2 * n, 8, 44).view({n, 2, 8});
  const auto labels = torch::tensor({3, 3, 4, 5, 4}, torch::kLong);
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    SCOPED_TRACE(static_cast<int>(path));
    const SupConOptions options = path_options(path, 3);
    // Today's SupCon: ids only, no image identities, no rule attributes.
    auto f_old = features.clone().requires_grad_(true);
    const auto flat = f_old.transpose(0, 1).reshape({2 * n, 8});
    ContrastiveInputs old_inputs;
    old_inputs.anchors = flat;
    old_inputs.keys = flat;
    old_inputs.anchor_ids = labels.repeat({2});
    old_inputs.key_ids = old_inputs.anchor_ids;
    old_inputs.self_offset = 0;
    const auto old_loss = contrastive_loss(old_inputs, options);
    old_loss.backward();
    auto f_new = features.clone().requires_grad_(true);
    PairAttributes images;
    images.ids = labels;
    const auto new_loss = supcon_loss(f_new, images, options);
    new_loss.backward();
    EXPECT_EQ(new_loss.item<double>(), old_loss.item<double>());
    EXPECT_TRUE(torch::equal(f_new.grad(), f_old.grad()));
    // Weighted with every time equal: every same-patient weight is exp(0) = 1, the patient rule.
    auto f_weighted = features.clone().requires_grad_(true);
    images.days = torch::full({n}, 123.25, torch::kDouble);
    SupConOptions weighted = options;
    weighted.positives = rule_of(PositiveRule::kWeighted, 7.0);
    const auto weighted_loss = supcon_loss(f_weighted, images, weighted);
    weighted_loss.backward();
    EXPECT_NEAR(weighted_loss.item<double>(), old_loss.item<double>(), 1e-12);
    expect_close(f_weighted.grad(), f_old.grad(), 1e-12, "weighted d features");
  }
  // MoCo: the struct overload is the positional one, which is ids-only ContrastiveInputs.
  const auto q = random_features(4, 6, 1);
  const auto k = random_features(4, 6, 2);
  const auto queue = random_features(9, 6, 3);
  const auto qid = torch::tensor({0, 1, 2, 0}, torch::kLong);
  const auto kid = torch::tensor({0, 0, 1, 5, 2, 0, 1, 6, 2}, torch::kLong);
  const auto valid = torch::tensor({1, 0, 1, 1, 1, 0, 1, 1, 0}, torch::kLong).to(torch::kBool);
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    const SupConOptions options = path_options(path, 3);
    ContrastiveInputs old_inputs;
    old_inputs.anchors = q;
    old_inputs.keys = queue;
    old_inputs.own_keys = k;
    old_inputs.key_valid = valid;
    old_inputs.anchor_ids = qid;
    old_inputs.key_ids = kid;
    MoCoLossInputs in;
    in.queries = q;
    in.keys = k;
    in.query.ids = qid;
    in.queue_keys = queue;
    in.queue.ids = kid;
    in.queue_valid = valid;
    const double expected = contrastive_loss(old_inputs, options).item<double>();
    EXPECT_EQ(moco_loss(in, options).item<double>(), expected);
    EXPECT_EQ(
        moco_loss(q, k, qid, queue, kid, valid, MoCoPositives::kPatient, options).item<double>(),
        expected);
  }
}

TEST(SupConPositives, ZeroWeightsBehaveLikeNonPositivesAndAllZeroAnchorsAreLeftOut) {
  // Weighted rule: dated same-patient pairs all at day 5 (weight exactly 1), undated ones get
  // weight 0. Anchor 3 is undated: all its weights are 0.
  NaiveSpec weighted;
  weighted.anchors = random_features(4, 5, 81);
  weighted.keys = random_features(9, 5, 82);
  weighted.anchor_ids = {1, 1, 2, 2};
  weighted.anchor_days = {5, 5, 5, kNaN};
  weighted.key_ids = {1, 1, 1, 2, 2, 2, 3, 1, 2};
  weighted.key_days = {5, kNaN, 5, 5, kNaN, 5, 5, kNaN, 5};
  weighted.positives = rule_of(PositiveRule::kWeighted, 10.0);
  // The patient rule with the weight-0 keys and the all-zero anchor moved to patients of their own.
  NaiveSpec patient = weighted;
  patient.positives = rule_of(PositiveRule::kPatient);
  patient.anchor_days.clear();
  patient.key_days.clear();
  patient.anchor_ids[3] = 99;
  for (const std::int64_t j : {1, 4, 7}) patient.key_ids[j] = 100 + j;
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    SCOPED_TRACE(static_cast<int>(path));
    const Evaluated w = evaluate(weighted, path_options(path, 3), false, false);
    expect_same(w, evaluate(patient, path_options(path, 3), false, false), 1e-12);
    EXPECT_EQ(w.grad_anchors[3].abs().max().item<double>(), 0.0);
    EXPECT_GT(w.grad_anchors[2].abs().max().item<double>(), 0.0);
    // Left out of the mean: the loss of the three other anchors alone.
    NaiveSpec three = weighted;
    three.anchors = weighted.anchors.slice(0, 0, 3);
    three.anchor_ids.resize(3);
    three.anchor_days.resize(3);
    EXPECT_NEAR(w.loss.item<double>(),
                evaluate(three, path_options(path, 3), false, false).loss.item<double>(), 1e-12);
  }
}

TEST(SupConPositives, WindowAndStudyLossesArePatientLossesOverTheSelectedPairs) {
  // Window of 3 days: for anchor 0 (day 0) keys at days 0 (equal time) and 3 (the boundary) are
  // in, 3.5 and the undated key are out; anchor 1 (day 10) has 7 and 13 at the boundary.
  NaiveSpec window;
  window.anchors = random_features(2, 5, 61);
  window.keys = random_features(7, 5, 62);
  window.anchor_ids = {1, 1};
  window.anchor_days = {0.0, 10.0};
  window.key_ids = {1, 1, 1, 1, 1, 1, 2};
  window.key_days = {0.0, 3.0, 3.5, kNaN, 13.0, 7.0, 0.0};
  window.positives = rule_of(PositiveRule::kWindow, 3.0);
  // Study: anchor 0 of study 4 matches keys of study 4 only; anchor 1's study is unknown.
  NaiveSpec study = window;
  study.anchor_days.clear();
  study.key_days.clear();
  study.anchor_studies = {4, -1};
  study.key_studies = {4, -1, 5, 4, 4, -1, 4};
  study.positives = rule_of(PositiveRule::kStudy);
  // The same pairs through the patient rule: one spec per anchor, the keys it does not select
  // moved to another patient (they stay in the denominator).
  const std::vector<std::pair<const NaiveSpec*, std::vector<std::vector<std::int64_t>>>> cases{
      {&window, {{1, 1, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 1, 1, 2}}},
      {&study, {{1, 2, 2, 1, 1, 2, 2}, {2, 2, 2, 2, 2, 2, 2}}}};
  for (const auto& [spec, selected] : cases) {
    SCOPED_TRACE(to_string(spec->positives.rule));
    for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
      SCOPED_TRACE(static_cast<int>(path));
      const Evaluated got = evaluate(*spec, path_options(path, 1), false, false);
      double per_anchor_sum = 0.0;
      int included = 0;
      for (std::size_t i = 0; i < selected.size(); ++i) {
        NaiveSpec one;
        one.anchors = spec->anchors.slice(0, i, i + 1);
        one.keys = spec->keys;
        one.anchor_ids = {1};
        one.key_ids = selected[i];
        const double value = evaluate(one, path_options(path, 1), false, false).loss.item<double>();
        if (value != 0.0) {
          per_anchor_sum += value;
          ++included;
        }
      }
      ASSERT_GT(included, 0);
      EXPECT_NEAR(got.loss.item<double>(), per_anchor_sum / included, 1e-12);
    }
  }
}

TEST(SupConPositives, SupConViewsOfOneImageArePositivesEvenUndated) {
  // Window of 1 day: entry 1 is 2 days from entry 0 (not a positive); entries 2 and 3 are the
  // same undated image drawn twice; entry 4 is undated with an unknown identity.
  const std::int64_t n = 5;
  const auto features = random_features(2 * n, 6, 91).view({n, 2, 6});
  PairAttributes images;
  images.ids = torch::tensor({7, 7, 7, 7, 8}, torch::kLong);
  images.days = torch::tensor({0.0, 2.0, kNaN, kNaN, kNaN}, torch::kDouble);
  images.images = torch::tensor({10, 11, 12, 12, -1}, torch::kLong);
  SupConOptions options;
  options.positives = rule_of(PositiveRule::kWindow, 1.0);
  NaiveSpec s;
  s.anchors = features.transpose(0, 1).reshape({2 * n, 6});
  s.keys = s.anchors;
  s.self_offset = 0;
  s.positives = options.positives;
  const std::vector<std::int64_t> identity{0, 1, 2, 2, 4};
  for (std::int64_t r = 0; r < 2 * n; ++r) {
    s.anchor_ids.push_back(images.ids[r % n].item<std::int64_t>());
    s.anchor_days.push_back(images.days[r % n].item<double>());
    s.anchor_images.push_back(identity[r % n]);
  }
  s.key_ids = s.anchor_ids;
  s.key_days = s.anchor_days;
  s.key_images = s.anchor_images;
  const double expected = naive_loss(s).item<double>();
  for (const LossPath path : {LossPath::kFull, LossPath::kChunked}) {
    SupConOptions o = options;
    o.path = path;
    o.chunk_rows = 3;
    EXPECT_NEAR(supcon_loss(features, images, o).item<double>(), expected, 1e-10);
  }
  // The counts leave out pairs of one image (other view; entries 2 and 3 are one image): no
  // entry has a positive from another image (entry 1 is outside the window, 2-4 undated).
  const PositiveCounts counts =
      positive_counts(supcon_contrastive_inputs(features, images), options);
  EXPECT_EQ(counts.anchors, 10.0);
  EXPECT_EQ(counts.positives_per_anchor, 0.0);
  EXPECT_EQ(counts.weight_per_anchor, 0.0);
  EXPECT_EQ(counts.share_without, 1.0);
}

TEST(SupConPositives, PositiveCountsOnHandBuiltCases) {
  // MoCo: two queries against k+ and a queue of 4 (slot 2 invalid).
  MoCoLossInputs moco;
  moco.queries = random_features(2, 4, 1);
  moco.keys = random_features(2, 4, 2);
  moco.queue_keys = random_features(4, 4, 3);
  moco.query.ids = torch::tensor({1, 2}, torch::kLong);
  moco.query.days = torch::tensor({0.0, 0.0}, torch::kDouble);
  moco.queue.ids = torch::tensor({1, 1, 1, 2}, torch::kLong);
  moco.queue.days = torch::tensor({0.0, 5.0, 1.0, kNaN}, torch::kDouble);
  moco.queue_valid = torch::tensor({1, 1, 0, 1}, torch::kLong).to(torch::kBool);
  SupConOptions window;
  window.positives = rule_of(PositiveRule::kWindow, 2.0);
  // k+ is the query's own image and not counted. Query 0: slot 0 (slot 1 too far, slot 2
  // invalid); query 1: slot 3 undated, so none.
  PositiveCounts c = positive_counts(moco_contrastive_inputs(moco), window);
  EXPECT_EQ(c.anchors, 2.0);
  EXPECT_DOUBLE_EQ(c.positives_per_anchor, 0.5);
  EXPECT_DOUBLE_EQ(c.weight_per_anchor, 0.5);
  EXPECT_EQ(c.share_without, 0.5);
  SupConOptions weighted;
  weighted.positives = rule_of(PositiveRule::kWeighted, 1.0);
  // Query 0: slots 0 (w 1) and 1 (w e^-5); query 1: none.
  c = positive_counts(moco_contrastive_inputs(moco), weighted);
  EXPECT_DOUBLE_EQ(c.positives_per_anchor, 1.0);
  EXPECT_NEAR(c.weight_per_anchor, (1.0 + std::exp(-5.0)) / 2.0, 1e-15);
  EXPECT_EQ(c.share_without, 0.5);
  // Without k+ the counts are the same: k+ never counts.
  ContrastiveInputs no_own = moco_contrastive_inputs(moco);
  no_own.own_keys = torch::Tensor();
  c = positive_counts(no_own, window);
  EXPECT_DOUBLE_EQ(c.positives_per_anchor, 0.5);
  EXPECT_DOUBLE_EQ(c.share_without, 0.5);
  // Vanilla MoCo: k+ only, so no anchor has a positive from another image.
  moco.positives = MoCoPositives::kOwnKey;
  c = positive_counts(moco_contrastive_inputs(moco), window);
  EXPECT_DOUBLE_EQ(c.positives_per_anchor, 0.0);
  EXPECT_DOUBLE_EQ(c.share_without, 1.0);
  // SupCon, 3 images x 2 views: the anchor itself is never counted.
  const auto features = random_features(6, 4, 5).view({3, 2, 4});
  PairAttributes images;
  images.ids = torch::tensor({7, 7, 8}, torch::kLong);
  images.days = torch::tensor({0.0, 10.0, kNaN}, torch::kDouble);
  c = positive_counts(supcon_contrastive_inputs(features, images), window);
  EXPECT_EQ(c.anchors, 6.0);
  EXPECT_DOUBLE_EQ(c.positives_per_anchor, 0.0);  // only the other view, which is not counted
  EXPECT_DOUBLE_EQ(c.share_without, 1.0);
  SupConOptions wide;
  wide.positives = rule_of(PositiveRule::kWindow, 10.0);  // boundary inclusive
  c = positive_counts(supcon_contrastive_inputs(features, images), wide);
  EXPECT_NEAR(c.positives_per_anchor, 8.0 / 6.0, 1e-12);  // 2, 2, 0 per view
  EXPECT_NEAR(c.share_without, 2.0 / 6.0, 1e-12);
}

TEST(SupConPositives, MissingAttributesAndBadParametersRaise) {
  const auto f = random_features(8, 4, 5).view({4, 2, 4});
  PairAttributes images;
  images.ids = torch::tensor({0, 0, 1, 1}, torch::kLong);
  SupConOptions window;
  window.positives = rule_of(PositiveRule::kWindow, 3.0);
  EXPECT_THROW(supcon_loss(f, images, window), c10::Error);  // no days
  SupConOptions study;
  study.positives = rule_of(PositiveRule::kStudy);
  EXPECT_THROW(supcon_loss(f, images, study), c10::Error);  // no studies
  PairAttributes float_studies = images;
  float_studies.studies = torch::zeros({4}, torch::kFloat);
  EXPECT_THROW(supcon_loss(f, float_studies, study), c10::Error);
  PairAttributes short_days = images;
  short_days.days = torch::zeros({3}, torch::kDouble);
  EXPECT_THROW(supcon_loss(f, short_days, window), c10::Error);
  PairAttributes dated = images;
  dated.days = torch::zeros({4}, torch::kDouble);
  EXPECT_NO_THROW(supcon_loss(f, dated, window));
  // Direct inputs: days for one side only, images for one side only.
  ContrastiveInputs in = supcon_contrastive_inputs(f, dated);
  in.key_days = torch::Tensor();
  EXPECT_THROW(contrastive_loss(in, window), c10::Error);
  EXPECT_THROW(positive_counts(in, window), c10::Error);
  in = supcon_contrastive_inputs(f, dated);
  in.key_images = torch::Tensor();
  EXPECT_THROW(contrastive_loss(in, window), c10::Error);
  for (const double bad : {0.0, -2.0, kNaN, std::numeric_limits<double>::infinity()}) {
    SupConOptions weighted;
    weighted.positives = rule_of(PositiveRule::kWeighted, bad);
    try {
      supcon_loss(f, dated, weighted);
      ADD_FAILURE() << "time_scale_days " << bad << " accepted";
    } catch (const common::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("method.time_scale_days"), std::string::npos)
          << e.what();
    }
  }
  // Vanilla MoCo reads neither the rule nor the attributes.
  MoCoLossInputs moco;
  moco.queries = random_features(2, 4, 1);
  moco.keys = random_features(2, 4, 2);
  moco.queue_keys = random_features(3, 4, 3);
  moco.queue_valid = torch::ones({3}, torch::kBool);
  moco.positives = MoCoPositives::kOwnKey;
  EXPECT_NO_THROW(moco_loss(moco, window));
}

TEST(SupConPositives, WeightedChunkedEqualsFullInFloat32) {
  NaiveSpec s = self_contrast_spec(64, 32, 9, 5);
  s.anchors = s.anchors.to(torch::kFloat);
  s.keys = s.anchors;
  s.anchor_days = random_days(64, 6, 7);
  s.key_days = s.anchor_days;
  s.positives = rule_of(PositiveRule::kWeighted, 20.0);
  const Evaluated full = evaluate(s, path_options(LossPath::kFull), false, true);
  const Evaluated chunked = evaluate(s, path_options(LossPath::kChunked, 10), false, true);
  EXPECT_EQ(chunked.loss.scalar_type(), torch::kFloat);
  expect_same(chunked, full, 2e-5);
}

// ctest runs each test with one torch thread (tests/CMakeLists.txt); the CPU kernels split their
// rows over at::parallel_for, so this is where their multi-threaded path runs. Rows are
// independent: any thread count gives the same values (double; the backward's matrix products
// may reduce in another order, hence not bit for bit).
TEST(SupConLoss, ChunkedKernelsGiveTheSameValuesOnOneAndOnFourThreads) {
  const int before = at::get_num_threads();
  for (const PositiveOptions& rule : all_rules()) {
    SCOPED_TRACE(static_cast<int>(rule.rule));
    NaiveSpec s = self_contrast_spec(96, 16, 11, 29);
    s.anchor_days = random_days(96, 11, 31);
    s.key_days = s.anchor_days;
    s.anchor_studies = some_studies(96);
    s.key_studies = s.anchor_studies;
    s.positives = rule;
    at::set_num_threads(1);
    const Evaluated one = evaluate(s, path_options(LossPath::kChunked, 40), false, true);
    at::set_num_threads(4);
    ASSERT_EQ(at::get_num_threads(), 4);
    const Evaluated four = evaluate(s, path_options(LossPath::kChunked, 40), false, true);
    expect_same(four, one, 1e-12);
  }
  at::set_num_threads(before);
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

TEST(SupConPositives, WeightedAndWindowChunkedMatchCpu_CUDA) {
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
  s.anchor_days = random_days(300, 9, 4);
  s.key_days = random_days(1000, 11, 5);
  for (std::int64_t j = 0; j < 1000; ++j) s.key_images.push_back(j);
  for (std::int64_t i = 0; i < 300; ++i) s.anchor_images.push_back(i + 100);
  for (const PositiveOptions& rule :
       {rule_of(PositiveRule::kWeighted, 20.0), rule_of(PositiveRule::kWindow, 10.0)}) {
    SCOPED_TRACE(to_string(rule.rule));
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
        in.anchor_days = cpu_in.anchor_days.to(device);
        in.key_days = cpu_in.key_days.to(device);
        in.anchor_images = cpu_in.anchor_images.to(device);
        in.key_images = cpu_in.key_images.to(device);
        SupConOptions options = path_options(path, 64);
        options.positives = rule;
        auto loss = contrastive_loss(in, options);
        loss.backward();
        return Evaluated{loss.detach().cpu(), in.anchors.grad().cpu(), in.keys.grad().cpu(), {}};
      };
      const Evaluated cpu = run(torch::kCPU, LossPath::kChunked);
      expect_same(run(torch::kCUDA, LossPath::kChunked), cpu, tol);
      expect_same(run(torch::kCUDA, LossPath::kFull), cpu, tol);
    }
  }
}

}  // namespace
}  // namespace cltci::ssl
