// placeholder until the engine lands
namespace gb::engine { int engine_placeholder() { return 0; } }
