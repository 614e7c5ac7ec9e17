// Chat templates analysed as Jinja code (issue 16 §4): the same SSTI payload however it is spelled is the
// same HIGH template.injection; ordinary chat templates (ChatML with tools, Llama 3, Gemma) raise nothing.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "inspect/scan.h"
#include "inspect/template_fold.h"

namespace {

std::vector<gb::finding> injections(const std::string& t) {
  std::vector<gb::finding> all, out;
  gb::scan_template_text(t, "t.jinja", all);
  for (const auto& f : all)
    if (f.code == "template.injection") out.push_back(f);
  return out;
}

gb::severity worst(const std::vector<gb::finding>& f) {
  gb::severity w = gb::severity::info;
  for (const auto& x : f) w = std::max(w, x.level);
  return w;
}

}  // namespace

TEST_CASE("every spelling of a dunder access is the same high finding") {
  const char* const spellings[] = {
      "{{ ''.__class__ }}",
      "{{ ''['__cla'~'ss__'] }}",
      "{{ ''['__cla' + 'ss__'] }}",
      "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
      "{{ ''|attr('\\u005f\\u005fclass\\u005f\\u005f') }}",
      "{{ ''|attr('\\137\\137class\\137\\137') }}",
      "{{ ''|attr(['__cl','ass__']|join) }}",
      "{{ ''|attr('__ssalc__'|reverse) }}",
      "{{ ''|attr('__ssalc__'[::-1]) }}",
      "{{ ''|attr('%sclass%s'|format('__','__')) }}",
      "{{ ''|attr('_' '_class_' '_') }}",
      "{{ ''|attr('__CLASS__'|lower) }}",
      "{{ ''|attr('__klass__'|replace('k', 'c')) }}",
      "{% set a = '__cla' %}{% set b = a ~ 'ss__' %}{{ ''|attr(b) }}",
      "{{ ''|attr(name) }}",  // a computed name that cannot be folded
      "{{ messages|map(attribute='__class__')|list }}",
      "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
      "{{ lipsum }}",
      "{{ self }}",
      "{{ joiner }}",
      "{{ config.items() }}",
      "{{ request.application }}",
      "{{ namespace.__init__ }}",
      "{{ range.__init__ }}",
      "{%- raw %}{% endraw %}{{ ''[('__cl','ass__')|join] }}",
  };
  for (const char* t : spellings) {
    INFO(t);
    auto f = injections(t);
    REQUIRE(!f.empty());
    CHECK(worst(f) == gb::severity::high);
  }
}

TEST_CASE("strings that only print, and ordinary chat templates, are not injections") {
  CHECK(injections("{{ '\\u005f\\u005fclass\\u005f\\u005f' }}").empty());  // printed, never accessed
  std::vector<gb::finding> code;  // comments and raw blocks are text to the Jinja analysis
  gb::template_fold_scan("{# ''.__class__ in a comment #}hello{% raw %}{{ ''.__class__ }}{% endraw %}", "t",
                         code);
  CHECK(code.empty());
  const char* chatml_tools = R"({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
    {{- "\n\n# Tools\n<tools>" }}
    {%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}
    {{- "\n</tools>\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
            {{- '{"name": "' }}{{- tool_call.name }}{{- tool_call.arguments | tojson }}
        {%- endfor %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %})";
  CHECK(injections(chatml_tools).empty());
  const char* llama3 = R"({{- bos_token }}
{%- set ns = namespace(found=false, system='') %}
{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- endif %}
{%- set date_string = strftime_now("%d %b %Y") %}
{{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- for message in messages %}
  {%- set ns.found = true %}
  {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}
  {%- for arg_name, arg_val in message.tool_calls[0].arguments | items %}{{- arg_name + '=' + arg_val|tojson }}{%- endfor %}
  {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
  {{- messages | map(attribute='role') | join(',') }}
{%- endfor %}
{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %})";
  CHECK(injections(llama3).empty());
}

TEST_CASE("hostile nesting is bounded, not recursed without limit") {
  std::string deep = "{{ " + std::string(100'000, '(') + "'x'" + std::string(100'000, ')') + " }}";
  auto f = injections(deep);
  REQUIRE(!f.empty());
  CHECK(worst(f) == gb::severity::high);
}

TEST_CASE("spelled-out patterns see code only: comments and plain text are not injections") {
  // Jinja never evaluates a {# comment #}, plain text or a raw block: no false alarm from the raw patterns
  CHECK(injections("{# never ''.__class__.__mro__ or os.popen here #}hello").empty());
  CHECK(injections("Explain what __class__, __globals__ and eval do in Python.\n{{ messages[0].content }}")
            .empty());
  CHECK(injections("{% raw %}{{ ''.__class__.__subclasses__() }}{% endraw %}{{ bos_token }}").empty());
  // the same constructs in code stay flagged at the same (high) severity, however spelled, also next to a
  // comment that mentions them
  const char* const real[] = {
      "{# doc #}{{ ''.__class__.__mro__ }}",
      "hello __class__ {{ ''.__class__ }}",
      "{# ''.__class__ #}{{ ''['__cla'~'ss__'] }}",
      "{% if x %}{{ cycler.__init__.__globals__.os.popen('id').read() }}{% endif %}",
  };
  for (const char* t : real) {
    INFO(t);
    auto f = injections(t);
    REQUIRE(!f.empty());
    CHECK(worst(f) == gb::severity::high);
  }
  // offsets stay the template's: the finding points at the construct in the original text
  std::string t = "__class__ in text {{ x.__class__ }}";
  auto f = injections(t);
  REQUIRE(!f.empty());
  for (const auto& x : f) CHECK(x.offset >= t.find("{{"));
}
