// Every differentiable op of the engine, one family per header. This is the
// single list of ops: adding an op adds one line here (and its contract
// header, CPU and CUDA kernels, autograd file, test and bench).
//
// family          ops
// shape_ops       reshape view flatten permute transpose narrow slice select expand squeeze
//                 unsqueeze contiguous clone to  (Tensor methods)  sum_to
// index_ops       cat stack index_select gather
// elementwise     add sub mul div rsub rdiv neg exp log sqrt pow abs clamp relu sigmoid tanh
//                 where gt lt ge le eq add_ mul_
// reduce          sum mean max min argmax norm
// linalg          matmul linear
// conv            conv2d
// pool            max_pool2d
// adaptive_pool   adaptive_avg_pool2d adaptive_max_pool2d
// upsample        upsample_bilinear2d
// norm            batch_norm group_norm layer_norm
// nn              embedding dropout dropout_mask softmax log_softmax cross_entropy
//                 cosine_similarity
// gru             gru_cell gru_unbind
#pragma once

#include "autograd/adaptive_pool.h"
#include "autograd/conv.h"
#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/gru.h"
#include "autograd/index_ops.h"
#include "autograd/linalg.h"
#include "autograd/nn.h"
#include "autograd/norm.h"
#include "autograd/pool.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "autograd/upsample.h"
