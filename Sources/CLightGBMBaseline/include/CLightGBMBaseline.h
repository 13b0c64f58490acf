// LightGBM's own C API, loaded at run time with dlopen from the lib_lightgbm.so that the
// lightgbm Python wheel ships: the baseline of `tickbus bench model`.
#ifndef CLIGHTGBM_BASELINE_H
#define CLIGHTGBM_BASELINE_H
#include <stdint.h>

/// Loads the library and the model, prepares single-row fast prediction for `ncol` float64
/// features (`raw` 1: raw scores). Returns 0, or -1 with a message in `err`.
int tb_lgbm_open(const char *so_path, const char *model_path, int ncol, int raw, char *err, int errlen);
/// LGBM_BoosterPredictForMatSingleRowFast on one row; writes the outputs, returns how many (or -1).
int tb_lgbm_predict(const double *row, double *out);
/// Number of classes (outputs per row) of the loaded model.
int tb_lgbm_num_outputs(void);
void tb_lgbm_close(void);
#endif
