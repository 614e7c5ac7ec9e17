// viz/model_documentation.h: the EU GPAI Code of Practice (Transparency chapter) Model Documentation Form,
// pre-filled from the model files: every field glassbox can compute (model authenticity = the OMS subject
// digest, architecture, parameter count, input/output modality and maximum input size, dtype and
// quantisation, licence and base models as the files state them, custom-code dependencies) is filled and
// marked "from the files"; every other field is listed as a provider statement. Field numbers follow the
// form (1.1-1.6, 2.1-2.6, 3.1-3.2, 4.1-4.2); fields whose number glassbox does not know are named by section.
//
//   write(dir + "/model-documentation.md", gb::viz::model_documentation_md(d));
#pragma once

#include <string>

#include "viz/report.h"

namespace gb::viz {

std::string model_documentation_md(const audit_data& d);

}  // namespace gb::viz
