#pragma once
// Public header of the nn library: modules, layers, optimizers.
#include "nn/layers.h"
#include "nn/module.h"
#include "nn/optim.h"
