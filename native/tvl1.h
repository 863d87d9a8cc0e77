// TV-L1 optical flow in the addon (native/tvl1.cc): the entry point that init() of
// mimanet_native.cc exports as tvl1Flow.
#pragma once
#include <node_api.h>

napi_value mimanet_tvl1_flow_entry(napi_env env, napi_callback_info info);
