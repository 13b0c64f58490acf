#include "CLightGBMBaseline.h"
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// Signatures from LightGBM's c_api.h (4.x).
typedef void *BoosterHandle;
typedef void *FastConfigHandle;
typedef int (*create_fn)(const char *, int *, BoosterHandle *);
typedef int (*init_fn)(BoosterHandle, const int, const int, const int, const int, const int32_t, const char *, FastConfigHandle *);
typedef int (*predict_fn)(FastConfigHandle, const void *, int64_t *, double *);
typedef int (*free_booster_fn)(BoosterHandle);
typedef int (*free_config_fn)(FastConfigHandle);
typedef int (*num_classes_fn)(BoosterHandle, int *);
typedef const char *(*last_error_fn)(void);

// One loaded model per process (the benchmark needs one). Set by tb_lgbm_open, cleared by tb_lgbm_close.
static void *lib;
static BoosterHandle booster;
static FastConfigHandle config;
static predict_fn predict;
static int outputs = 1;

int tb_lgbm_open(const char *so_path, const char *model_path, int ncol, int raw, char *err, int errlen) {
    lib = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(err, errlen, "dlopen %s: %s", so_path, dlerror()); return -1; }
    create_fn create = (create_fn)dlsym(lib, "LGBM_BoosterCreateFromModelfile");
    init_fn init = (init_fn)dlsym(lib, "LGBM_BoosterPredictForMatSingleRowFastInit");
    predict = (predict_fn)dlsym(lib, "LGBM_BoosterPredictForMatSingleRowFast");
    num_classes_fn classes = (num_classes_fn)dlsym(lib, "LGBM_BoosterGetNumClasses");
    last_error_fn last = (last_error_fn)dlsym(lib, "LGBM_GetLastError");
    if (!create || !init || !predict || !classes || !last) { snprintf(err, errlen, "%s: LightGBM C API symbols missing", so_path); return -1; }
    int iterations = 0;
    if (create(model_path, &iterations, &booster) != 0) { snprintf(err, errlen, "LGBM_BoosterCreateFromModelfile: %s", last()); return -1; }
    if (classes(booster, &outputs) != 0) outputs = 1;
    // predict_type 0 normal / 1 raw; all iterations; C_API_DTYPE_FLOAT64 = 1; one thread.
    if (init(booster, raw ? 1 : 0, 0, -1, 1, ncol, "num_threads=1", &config) != 0) {
        snprintf(err, errlen, "LGBM_BoosterPredictForMatSingleRowFastInit: %s", last());
        return -1;
    }
    return 0;
}

int tb_lgbm_predict(const double *row, double *out) {
    int64_t n = 0;
    if (predict(config, row, &n, out) != 0) return -1;
    return (int)n;
}

int tb_lgbm_num_outputs(void) { return outputs; }

void tb_lgbm_close(void) {
    if (!lib) return;
    free_config_fn fc = (free_config_fn)dlsym(lib, "LGBM_FastConfigFree");
    free_booster_fn fb = (free_booster_fn)dlsym(lib, "LGBM_BoosterFree");
    if (config && fc) fc(config);
    if (booster && fb) fb(booster);
    config = 0;
    booster = 0;
    // The library stays loaded: its OpenMP threads may still reference it.
}
