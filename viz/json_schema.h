// viz/json_schema.h: a validator for the JSON Schema subset glassbox's own schemas use
// (viz/report.schema.json): type, const, enum, required, properties, additionalProperties (boolean),
// items, minItems, maxItems, minLength, maxLength, minimum, maximum, exclusiveMinimum, pattern (ECMAScript
// regex, searched), minProperties, additionalProperties (boolean or schema), anyOf, if/then, local
// "$ref": "#/$defs/NAME" and "$ref" to another schema of the set by its "$id" (the OMS v1.0 schemas).
// Unknown keywords are ignored, as JSON Schema prescribes for annotations.
//
//   std::vector<std::string> errs = gb::viz::json_schema_validate(schema_text, document_text);
//   // each: "/verdicts/0/level: 'fine' is not one of [ok, attention, critical, not measured]"
#pragma once

#include <string>
#include <vector>

namespace gb::viz {

std::vector<std::string> json_schema_validate(const std::string& schema_text,
                                              const std::string& document_text);
// The first schema is the root; the others are reachable by "$ref": "<their $id>".
std::vector<std::string> json_schema_validate(const std::vector<std::string>& schema_texts,
                                              const std::string& document_text);

}  // namespace gb::viz
