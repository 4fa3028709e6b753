#include "cltci/run/sweep_graph.h"

#include "cltci/common/error.h"
#include "cltci/config/finetune_config.h"
#include "cltci/config/sections.h"

#include <algorithm>
#include <map>
#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;
using config::AxisValue;
using config::SweepStage;

std::size_t SweepGraph::count(SweepStage stage) const {
  return static_cast<std::size_t>(std::count_if(
      jobs.begin(), jobs.end(), [&](const SweepJob& job) { return job.stage == stage; }));
}

std::size_t shard_of(const SweepJob& job, std::size_t count) {
  return count == 0 ? 0 : job.stage_index % count;
}

namespace {

std::string list(const std::vector<std::int64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (i ? "," : "") + std::to_string(values[i]);
  }
  return out + "]";
}

/// The axis values one job takes part in, and the placeholders they define.
struct Combination {
  const AxisValue* init = nullptr;
  const AxisValue* backbone = nullptr;
  const AxisValue* pretrain_data = nullptr;  // null for a random initialisation
  const AxisValue* finetune_data = nullptr;

  std::vector<const AxisValue*> values() const {
    std::vector<const AxisValue*> out;
    for (const AxisValue* v : {init, backbone, pretrain_data, finetune_data}) {
      if (v != nullptr) out.push_back(v);
    }
    return out;
  }

  std::map<std::string, std::string> vars() const {
    std::map<std::string, std::string> out;
    for (const AxisValue* v : values()) {
      for (const auto& [key, value] : v->vars) out[key] = value;
    }
    if (init != nullptr) {
      out["init"] = init->name;
      out["method"] = init->method;
    }
    if (backbone != nullptr) out["backbone"] = backbone->name;
    if (pretrain_data != nullptr) out["pretrain_data"] = pretrain_data->name;
    if (finetune_data != nullptr) out["finetune_data"] = finetune_data->name;
    return out;
  }
};

class Expander {
 public:
  Expander(const config::SweepConfig& config, const std::vector<std::string>& extra)
      : config_(config), extra_(extra), output_(config.sweep.output_dir) {}

  SweepGraph run() {
    SweepGraph graph;
    graph.config = config_;
    graph.state_dir = output_ / ".sweep";
    std::map<std::string, std::size_t> pretrain_of;  // "<init>|<backbone>|<data>" -> job
    for (const auto& data : config_.pretrain_data) {
      for (const auto& init : config_.inits) {
        if (init.init == config::InitType::kRandom) continue;
        for (const auto& backbone : config_.backbones) {
          Combination c{&init, &backbone, &data, nullptr};
          pretrain_of[init.name + "|" + backbone.name + "|" + data.name] = graph.jobs.size();
          add(graph, pretrain_job(c));
        }
      }
    }
    std::map<std::string, std::vector<std::size_t>> evaluations;  // "<fdata>|<backbone>"
    for (const auto& fdata : config_.finetune_data) {
      for (const auto& backbone : config_.backbones) {
        for (const auto& init : config_.inits) {
          std::vector<const AxisValue*> sources{nullptr};
          if (init.init != config::InitType::kRandom) {
            sources.clear();
            for (const auto& data : config_.pretrain_data) sources.push_back(&data);
          }
          for (const AxisValue* data : sources) {
            Combination c{&init, &backbone, data, &fdata};
            SweepJob ft = finetune_job(c);
            if (data != nullptr) {
              ft.deps.push_back(pretrain_of.at(init.name + "|" + backbone.name + "|" + data->name));
            }
            const std::size_t ft_index = add(graph, std::move(ft));
            SweepJob ev = evaluate_job(c, graph.jobs[ft_index]);
            ev.deps.push_back(ft_index);
            evaluations[fdata.name + "|" + backbone.name].push_back(add(graph, std::move(ev)));
          }
        }
        add(graph,
            report_job(fdata, backbone, graph, evaluations[fdata.name + "|" + backbone.name]));
      }
    }
    // Stage order (all pre-trainings, then all fine-tunings, ...) for listing and sharding;
    // dependencies are remapped, and still point backwards.
    std::vector<std::size_t> order(graph.jobs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return graph.jobs[a].stage < graph.jobs[b].stage;
    });
    std::vector<std::size_t> new_index(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) new_index[order[i]] = i;
    std::vector<SweepJob> sorted;
    std::map<SweepStage, std::size_t> per_stage;
    for (std::size_t old : order) {
      SweepJob job = std::move(graph.jobs[old]);
      for (auto& dep : job.deps) dep = new_index[dep];
      job.stage_index = per_stage[job.stage]++;
      sorted.push_back(std::move(job));
    }
    graph.jobs = std::move(sorted);
    if (!problems_.empty()) throw common::InputError(std::move(problems_));
    return graph;
  }

 private:
  std::size_t add(SweepGraph& graph, SweepJob job) {
    for (const auto& other : graph.jobs) {
      if (other.run_dir == job.run_dir) {
        problems_.push_back(config_.file.string() + ": jobs " + other.id + " and " + job.id +
                            " would share the run directory " + job.run_dir.string() +
                            "; rename an axis value");
      }
    }
    graph.jobs.push_back(std::move(job));
    return graph.jobs.size() - 1;
  }

  /// `text` with each {name} replaced from `vars`; an unknown name is a problem of `key`.
  std::string substitute(const std::string& text,
                         const std::map<std::string, std::string>& vars,
                         const std::string& key,
                         const std::string& job) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const auto open = text.find('{', pos);
      if (open == std::string::npos) break;
      const auto close = text.find('}', open);
      if (close == std::string::npos) break;
      out += text.substr(pos, open - pos);
      const std::string name = text.substr(open + 1, close - open - 1);
      const auto found = vars.find(name);
      if (found == vars.end()) {
        std::string known;
        for (const auto& [k, v] : vars) known += (known.empty() ? "" : ", ") + k;
        problems_.push_back(config_.file.string() + ": job " + job + ": " + key +
                            ": unknown placeholder {" + name + "} (known here: " + known + ")");
        out += text.substr(open, close - open + 1);
      } else {
        out += found->second;
      }
      pos = close + 1;
    }
    return out + text.substr(std::min(pos, text.size()));
  }

  /// The stage's overrides for a combination: the sweep's, then each axis value's.
  std::vector<std::string> overrides(SweepStage stage,
                                     const Combination& c,
                                     const std::string& job) {
    const auto pick = [&](const config::StageStrings& s) -> const std::vector<std::string>& {
      return stage == SweepStage::kPretrain   ? s.pretrain
             : stage == SweepStage::kFinetune ? s.finetune
                                              : s.evaluate;
    };
    const auto vars = c.vars();
    std::vector<std::string> out;
    for (const auto& item : pick(config_.set)) {
      out.push_back(substitute(item, vars, std::string("set.") + to_string(stage), job));
    }
    for (const AxisValue* v : c.values()) {
      for (const auto& item : pick(v->set)) {
        out.push_back(substitute(item, vars, v->name + ".set." + to_string(stage), job));
      }
    }
    return out;
  }

  /// A base config path: the axis value's own when it has one, relative to the sweep file.
  fs::path config_path(const std::string& base,
                       const std::string& own,
                       const Combination& c,
                       const std::string& key,
                       const std::string& job) {
    const std::string chosen = own.empty() ? base : own;
    if (chosen.empty()) return {};
    fs::path path = substitute(chosen, c.vars(), key, job);
    if (path.is_relative()) path = config_.file.parent_path() / path;
    return path.lexically_normal();
  }

  bool sets(const std::vector<std::string>& items, const std::string& key) {
    return std::any_of(items.begin(), items.end(),
                       [&](const std::string& s) { return s.rfind(key + "=", 0) == 0; });
  }

  template <typename Load>
  auto load(const std::string& job, Load loader) -> decltype(loader()) {
    try {
      return loader();
    } catch (const common::InputError& error) {
      for (const auto& problem : error.problems()) {
        problems_.push_back(config_.file.string() + ": job " + job + ": " + problem);
      }
    }
    return {};
  }

  void append(std::vector<std::string>& to, const std::vector<std::string>& items) {
    to.insert(to.end(), items.begin(), items.end());
  }

  SweepJob pretrain_job(const Combination& c) {
    SweepJob job;
    job.stage = SweepStage::kPretrain;
    job.run_name = c.init->name + "_" + c.backbone->name + "_" + c.pretrain_data->name;
    job.id = "pretrain/" + job.run_name;
    job.run_dir = output_ / job.run_name;
    job.backbone = c.backbone->name;
    std::string own = c.init->pretrain_config;
    for (const AxisValue* v : {c.backbone, c.pretrain_data}) {
      if (!v->pretrain_config.empty()) own = v->pretrain_config;
    }
    const fs::path file = config_path(config_.base_pretrain, own, c, "base.pretrain", job.id);
    auto items = overrides(SweepStage::kPretrain, c, job.id);
    if (!sets(items, "data.cache_dir")) items.push_back("data.cache_dir=" + cache_dir());
    items.push_back("method.name=" + c.init->method);
    items.push_back("run.name=" + job.run_name);
    items.push_back("run.output_dir=" + output_.string());
    append(items, extra_);
    job.pretrain = load(job.id, [&]() -> std::optional<config::PretrainConfig> {
      return config::load_pretrain_config(file, items);
    });
    if (c.pretrain_data->images > 0) {
      job.images = c.pretrain_data->images;
      job.images_basis = "axes.pretrain_data." + c.pretrain_data->name + ".images";
    } else if (job.pretrain && job.pretrain->data.source.type == config::kPhantomSource) {
      const auto& source = job.pretrain->data.source;
      job.images =
          source.patients * (source.images_per_patient[0] + source.images_per_patient[1]) / 2;
      job.images_basis = "phantom: patients x mean images per patient";
    }
    return job;
  }

  SweepJob finetune_job(const Combination& c) {
    SweepJob job;
    job.stage = SweepStage::kFinetune;
    job.run_name = "ft_" + c.finetune_data->name + "_" + c.backbone->name + "_" + c.init->name +
                   (c.pretrain_data != nullptr ? "_" + c.pretrain_data->name : "");
    job.id = "finetune/" + job.run_name;
    job.run_dir = output_ / job.run_name;
    job.backbone = c.backbone->name;
    std::string own;
    for (const AxisValue* v : c.values()) {
      if (!v->finetune_config.empty()) own = v->finetune_config;
    }
    const fs::path file = config_path(config_.base_finetune, own, c, "base.finetune", job.id);
    auto items = overrides(SweepStage::kFinetune, c, job.id);
    if (!sets(items, "data.cache_dir")) items.push_back("data.cache_dir=" + cache_dir());
    if (c.pretrain_data != nullptr) {
      const std::string pretrain_name =
          c.init->name + "_" + c.backbone->name + "_" + c.pretrain_data->name;
      items.push_back("init.type=" + config::to_string(config::InitType::kPretrained));
      items.push_back("init.pretrain_run=" + (output_ / pretrain_name).string());
    } else {
      items.push_back("init.type=" + config::to_string(config::InitType::kRandom));
    }
    items.push_back("budgets=" + list(config_.budgets));
    items.push_back("seeds=" + list(config_.seeds));
    items.push_back("folds.k=" + std::to_string(config_.folds));
    items.push_back("run.name=" + job.run_name);
    items.push_back("run.output_dir=" + output_.string());
    append(items, extra_);
    job.finetune = load(job.id, [&]() -> std::optional<config::FinetuneConfig> {
      return config::load_finetune_config(file, items);
    });
    return job;
  }

  SweepJob evaluate_job(const Combination& c, const SweepJob& finetune) {
    SweepJob job;
    job.stage = SweepStage::kEvaluate;
    job.run_name = finetune.run_name + "_eval";
    job.id = "evaluate/" + job.run_name;
    job.run_dir = output_ / job.run_name;
    job.backbone = c.backbone->name;
    const fs::path file = config_path(config_.base_evaluate, "", c, "base.evaluate", job.id);
    auto items = overrides(SweepStage::kEvaluate, c, job.id);
    items.push_back("finetune_run=" + finetune.run_dir.string());
    items.push_back("run.name=" + job.run_name);
    items.push_back("run.output_dir=" + output_.string());
    append(items, extra_);
    job.evaluate = load(job.id, [&]() -> std::optional<config::EvaluateConfig> {
      return config::load_evaluate_config(file, items);
    });
    return job;
  }

  SweepJob report_job(const AxisValue& fdata,
                      const AxisValue& backbone,
                      const SweepGraph& graph,
                      const std::vector<std::size_t>& evaluations) {
    SweepJob job;
    job.stage = SweepStage::kReport;
    job.run_name = "report_" + fdata.name + "_" + backbone.name;
    job.id = "report/" + job.run_name;
    job.run_dir = output_ / job.run_name;
    job.backbone = backbone.name;
    job.deps = evaluations;
    ReportOptions options;
    for (std::size_t index : evaluations) options.evaluations.push_back(graph.jobs[index].run_dir);
    job.report = std::move(options);
    return job;
  }

  std::string cache_dir() const { return (output_ / "cache").string(); }

  const config::SweepConfig& config_;
  const std::vector<std::string>& extra_;
  fs::path output_;
  std::vector<std::string> problems_;
};

}  // namespace

SweepGraph expand_sweep(const config::SweepConfig& config, const std::vector<std::string>& extra) {
  return Expander(config, extra).run();
}

}  // namespace cltci::run
