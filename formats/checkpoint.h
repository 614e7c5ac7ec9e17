// formats/checkpoint.h: training checkpoints as torch.save writes them (internal to formats/). The PyTorch
// loader rebuilds every tensor of the pickle under its dotted dict path ("model_state_dict.model.layers.0.
// self_attn.q_proj.weight", "optimizer_state_dict.state.0.exp_avg"); checkpoint_unwrap then reads the tree
// as a training checkpoint, as data (nothing is called):
//   - the model's weights: the first of model_state_dict, state_dict, model, module, ema, ema_model,
//     model_ema, ema_state_dict whose subtree holds tensors (metadata checkpoint.state_dict; the others
//     that exist: a finding and checkpoint.other_state_dicts);
//   - wrapper prefixes stripped when every name has them: module. (DDP), _orig_mod. (torch.compile),
//     model. (Lightning) (checkpoint.prefix_stripped);
//   - optimizer state (optimizer, optimizer_state_dict, optimizer_states, optim, opt, scheduler ...):
//     counted, not loaded (checkpoint.optimizer_tensors / checkpoint.optimizer_bytes and the finding
//     "optimizer state: N tensors, X MB; not part of the model");
//   - step, global_step, epoch, iter_num, iteration, best_val_loss: checkpoint.<key>;
//   - a config saved with the weights (config, model_config, hparams, hyper_parameters, args, model_args,
//     cfg): a dict's entries, or an object's BUILD state (a dataclass, argparse.Namespace ...), as
//     checkpoint.config.<key> (nested dicts flattened with dots), and checkpoint.config_source saying which.
// A plain state dict (tensors at the top level) is left as it is.
//
//   size_t first = a.tensors.size();
//   rebuild_tensors(...);                                   // names are dict paths
//   gb::loaders::checkpoint_unwrap(a, first, r, r.roots[0], where);
#pragma once

#include <cstddef>
#include <string>

#include "formats/archive.h"
#include "formats/pickle.h"

namespace gb::loaders {

void checkpoint_unwrap(archive& a, size_t first, const pickle::result& r, uint32_t root,
                       const std::string& where);

}  // namespace gb::loaders
