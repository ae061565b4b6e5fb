#pragma once
// Public header of the lora library: PEFT-compatible LoRA adapters on GPT-2.
#include "lora/adapter.h"
#include "lora/config.h"
