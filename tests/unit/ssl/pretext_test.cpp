// Rotation and PIRL baselines.
#include "cltci/common/error.h"
#include "cltci/ssl/pirl.h"
#include "cltci/ssl/rotation.h"
#include "common_test_support.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

namespace cltci::ssl {
namespace {

TEST(Rotation, FourBlocksWithLabelsAndRotatedContent) {
  const auto images = torch::arange(2 * 1 * 3 * 3).view({2, 1, 3, 3}).to(torch::kFloat);
  const RotationBatch r = make_rotation_batch(images);
  ASSERT_EQ(r.images.sizes(), (std::vector<std::int64_t>{8, 1, 3, 3}));
  EXPECT_TRUE(torch::equal(r.labels, torch::tensor({0, 0, 1, 1, 2, 2, 3, 3}, torch::kLong)));
  const std::int64_t w = 3;
  for (std::int64_t b = 0; b < 2; ++b) {
    EXPECT_TRUE(torch::equal(r.images[b], images[b]));
    for (std::int64_t i = 0; i < w; ++i) {
      for (std::int64_t j = 0; j < w; ++j) {
        const float x = images[b][0][i][j].item<float>();
        // 90 deg counter-clockwise: the top-right pixel comes to the top-left.
        EXPECT_EQ(r.images[2 + b][0][i][j].item<float>(), images[b][0][j][w - 1 - i].item<float>());
        EXPECT_EQ(r.images[4 + b][0][w - 1 - i][w - 1 - j].item<float>(), x);
        EXPECT_EQ(r.images[6 + b][0][i][j].item<float>(), images[b][0][w - 1 - j][i].item<float>());
      }
    }
  }
  EXPECT_EQ(r.images[2][0][0][0].item<float>(), 2.0F);  // in[0][0][0][2]
  EXPECT_THROW(make_rotation_batch(torch::zeros({1, 1, 3, 4})), common::InputError);
}

TEST(PirlJigsaw, GeometryMatchesTheAuthorsAt256AndGeneralises) {
  const JigsawGeometry g = jigsaw_geometry(256);
  EXPECT_EQ(g.cell, 85);
  EXPECT_EQ(g.patch, 80);
  EXPECT_EQ(g.slack, 5);
  const JigsawGeometry small = jigsaw_geometry(64);
  EXPECT_EQ(small.cell, 21);
  EXPECT_EQ(small.slack, 1);
  EXPECT_EQ(small.patch, 20);
  EXPECT_EQ(jigsaw_geometry(96, 0).patch, 32);
  EXPECT_THROW(jigsaw_geometry(8), common::InputError);
  EXPECT_THROW(jigsaw_geometry(30, 10), common::InputError);
}

TEST(PirlJigsaw, PatchesAreCopiesFromInsideTheirCells) {
  const JigsawGeometry g = jigsaw_geometry(64);
  // uint8 with values near 255: the authors' x*255 in uint8 would wrap these round.
  const auto images =
      torch::randint(200, 256, {3, 1, 64, 64}, torch::TensorOptions().dtype(torch::kByte));
  const JigsawPatches p = extract_jigsaw_patches(images, g, 5);
  ASSERT_EQ(p.patches.sizes(), (std::vector<std::int64_t>{3, 9, 1, 20, 20}));
  EXPECT_EQ(p.patches.scalar_type(), torch::kByte);
  for (std::int64_t b = 0; b < 3; ++b) {
    for (std::int64_t c = 0; c < 9; ++c) {
      const std::int64_t row = p.offsets[b][c][0].item<std::int64_t>();
      const std::int64_t col = p.offsets[b][c][1].item<std::int64_t>();
      const std::int64_t cell_row = (c / 3) * g.cell;
      const std::int64_t cell_col = (c % 3) * g.cell;
      EXPECT_GE(row, cell_row);
      EXPECT_GE(col, cell_col);
      EXPECT_LE(row + g.patch, cell_row + g.cell);
      EXPECT_LE(col + g.patch, cell_col + g.cell);
      EXPECT_TRUE(
          torch::equal(p.patches[b][c], images[b].narrow(1, row, g.patch).narrow(2, col, g.patch)));
    }
  }
  // Seeded: the same seed cuts the same patches, another seed other offsets.
  EXPECT_TRUE(torch::equal(extract_jigsaw_patches(images, g, 5).offsets, p.offsets));
  const JigsawPatches q = extract_jigsaw_patches(images, jigsaw_geometry(64, 10), 6);
  EXPECT_GT((q.offsets.remainder(21)).max().item<std::int64_t>(), 1);
}

TEST(PirlJigsaw, PermutationsAreSeededPermutationsAndApplyPerImage) {
  const auto perm = jigsaw_permutations(6, 3);
  ASSERT_EQ(perm.sizes(), (std::vector<std::int64_t>{6, 9}));
  std::set<std::vector<std::int64_t>> distinct;
  for (std::int64_t b = 0; b < 6; ++b) {
    const auto sorted = std::get<0>(perm[b].sort());
    EXPECT_TRUE(torch::equal(sorted, torch::arange(9)));
    distinct.insert({perm[b].data_ptr<std::int64_t>(), perm[b].data_ptr<std::int64_t>() + 9});
  }
  EXPECT_GT(distinct.size(), 1U);
  EXPECT_TRUE(torch::equal(jigsaw_permutations(6, 3), perm));
  const auto x = torch::arange(6 * 9 * 2).view({6, 9, 2});
  const auto y = permute_patches(x, perm);
  for (std::int64_t b = 0; b < 6; ++b) {
    for (std::int64_t i = 0; i < 9; ++i) {
      EXPECT_TRUE(torch::equal(y[b][i], x[b][perm[b][i].item<std::int64_t>()]));
    }
  }
}

TEST(PirlMemoryBank, MomentumUpdateRenormalisesAndSamplingSkipsOwnEntry) {
  PirlMemoryBank bank(6, 4, 1);
  EXPECT_TRUE(torch::allclose(bank.bank().norm(2, 1), torch::ones({6}), 0, 1e-6));
  const auto before = bank.bank().clone();
  const auto idx = torch::tensor({1, 4}, torch::kLong);
  const auto feats = torch::tensor({{2.0F, 0.0F, 0.0F, 0.0F}, {0.0F, 0.0F, 0.0F, 5.0F}});
  bank.update(idx, feats);
  for (std::int64_t r = 0; r < 2; ++r) {
    const std::int64_t i = idx[r].item<std::int64_t>();
    auto expected = 0.5 * before[i] + 0.5 * feats[r] / feats[r].norm();
    expected = expected / expected.norm();
    EXPECT_TRUE(torch::allclose(bank.bank()[i], expected, 0, 1e-6));
  }
  EXPECT_TRUE(torch::equal(bank.bank()[0], before[0]));
  EXPECT_THROW(bank.update(torch::tensor({2, 2}, torch::kLong), feats), c10::Error);

  const auto own = torch::tensor({0, 3, 5}, torch::kLong);
  const auto neg = bank.sample_negatives(own, 400, 9);
  ASSERT_EQ(neg.sizes(), (std::vector<std::int64_t>{3, 400}));
  EXPECT_TRUE((neg != own.unsqueeze(1)).all().item<bool>());
  EXPECT_GE(neg.min().item<std::int64_t>(), 0);
  EXPECT_LE(neg.max().item<std::int64_t>(), 5);
  // Every other entry gets drawn (uniform over size - 1 entries).
  EXPECT_EQ(std::get<0>(at::_unique(neg[0])).numel(), 5);
  EXPECT_TRUE(torch::equal(bank.sample_negatives(own, 400, 9), neg));
  EXPECT_THROW(bank.sample_negatives(own, 0, 1), common::InputError);
  EXPECT_THROW(PirlMemoryBank(1, 4, 0), common::InputError);
  EXPECT_THROW(PirlMemoryBank(4, 4, 0, 1.5), common::InputError);
}

TEST(PirlLoss, NceIsCrossEntropyOverPositiveAndNegatives) {
  namespace F = torch::nn::functional;
  torch::manual_seed(3);
  const auto f = torch::randn({3, 4}, torch::kDouble);
  const auto pos =
      F::normalize(torch::randn({3, 4}, torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const auto neg =
      F::normalize(torch::randn({3, 5, 4}, torch::kDouble), F::NormalizeFuncOptions().dim(2));
  double expected = 0.0;
  for (std::int64_t b = 0; b < 3; ++b) {
    const auto u = f[b] / f[b].norm();
    const double p = (u * pos[b]).sum().item<double>() / 0.07;
    double denom = std::exp(p);
    for (std::int64_t j = 0; j < 5; ++j)
      denom += std::exp((u * neg[b][j]).sum().item<double>() / 0.07);
    expected += -(p - std::log(denom)) / 3.0;
  }
  EXPECT_NEAR(pirl_nce_loss(f, pos, neg, 0.07).item<double>(), expected, 1e-10);
  EXPECT_THROW(pirl_nce_loss(f, pos, neg, 0.0), common::InputError);

  PirlMemoryBank bank(10, 4, 2);
  const auto idx = torch::tensor({2, 7, 9}, torch::kLong);
  const auto img = torch::randn({3, 4}, torch::requires_grad(true));
  const auto jig = torch::randn({3, 4}, torch::requires_grad(true));
  const auto loss = pirl_loss(img, jig, bank, idx, 6, 0.1, 11);
  const auto negs = bank.entries(bank.sample_negatives(idx, 6, 11)).view({3, 6, 4});
  const auto manual = 0.5 * pirl_nce_loss(img, bank.entries(idx), negs, 0.1) +
                      0.5 * pirl_nce_loss(jig, bank.entries(idx), negs, 0.1);
  EXPECT_NEAR(loss.item<double>(), manual.item<double>(), 1e-6);
  loss.backward();
  EXPECT_GT(img.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(jig.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace cltci::ssl
