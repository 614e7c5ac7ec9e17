// inspect/template_fold.h: a chat template analysed as Jinja code, never rendered.
//
// The template is tokenized the way Jinja's lexer splits it ({{ }}, {% %}, {# #}, raw blocks, string literals
// with Python escapes), its expressions are parsed (bounded depth, no recursion past it) and string
// expressions are constant-folded: `~` and `+` concatenation, adjacent literals, \x/\u/\U/octal escapes,
// |join, |reverse, |lower, |upper, |replace, |format, slices ([::-1]), computed subscripts and |attr(...),
// and `{% set %}` of constants. Every attribute or item name that results is checked: a dunder (or other
// frame/function internals), a computed name that cannot be folded, or any access to the gadget objects
// (cycler, joiner, namespace, lipsum, self, range, config, request) is a HIGH `template.injection`: the same
// severity however it is spelled.
//
//   std::vector<gb::finding> out;
//   gb::template_fold_scan("{{ ''['__cla'~'ss__'] }}", "tokenizer_config.json:chat_template", out);
//   // out[0].code == "template.injection", out[0].level == gb::severity::high
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"

namespace gb {

// Appends template.injection findings (offsets are byte offsets into `text`).
void template_fold_scan(std::string_view text, const std::string& where, std::vector<finding>& out);

// The template's code only: the bytes of its {{ }} and {% %} tags, everything else (plain text, {# #}
// comments, raw blocks) blanked to spaces, so offsets stay the template's. What Jinja never evaluates
// cannot inject: raw-text checks run over this.
std::string template_code_text(std::string_view text);

}  // namespace gb
