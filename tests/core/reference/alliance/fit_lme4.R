# Reference fits for harmonybridge.alliance.fit_growth (run once; the output is committed).
#
#   Rscript tests/core/reference/alliance/fit_lme4.R
#
# For each data set and REML = TRUE / FALSE:
#   lmer(outcome ~ <fixed> + session + (1 + session | client_id) + (1 | practitioner_id))
# with the optimiser tolerances tightened far below lme4's defaults, and writes
# lme4_fits.csv (long: dataset, reml, kind, group, name, value).  Also records the R and
# lme4 versions and lme4's deviance at its optimum, so that the tests can evaluate our
# deviance at lme4's theta.
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

ctrl <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_rel = 1e-14, ftol_rel = 1e-15,
                 ftol_abs = 1e-15, xtol_abs = 1e-14, maxeval = 1e6),
  check.conv.singular = "ignore"
)
# BOBYQA only sees deviance values, whose rounding noise (~1e-11) leaves a flat variance
# parameter uncertain to ~1e-6.  So the BOBYQA optimum is polished by projected Newton steps
# on lme4's own profiled deviance function (the modular API, ?modular: lFormula,
# mkLmerDevfun, mkMerMod), with a 4-point central-difference gradient; parameters on their
# bound of 0 with a positive gradient stay at 0.  The polished fit is what the tests use.
polish <- function(formula, d, reml, theta) {
  lf <- lFormula(formula, data = d, REML = reml)
  devf <- do.call(mkLmerDevfun, lf)
  lower <- lf$reTrms$lower
  x <- theta
  grad <- function(x) {
    sapply(seq_along(x), function(i) {
      h <- 1e-3 * max(abs(x[i]), 1e-2)
      e <- replace(numeric(length(x)), i, h)
      if (x[i] - 2 * h < lower[i]) {  # forward differences at a bound
        (-3 * devf(x) + 4 * devf(x + e) - devf(x + 2 * e)) / (2 * h)
      } else {
        (-devf(x + 2 * e) + 8 * devf(x + e) - 8 * devf(x - e) + devf(x - 2 * e)) / (12 * h)
      }
    })
  }
  for (it in 1:30) {
    g <- grad(x)
    bound <- (x - lower <= 1e-6) & g > 0
    x[bound] <- lower[bound]
    free <- which(!bound)
    if (!length(free)) break
    k <- length(free); H <- matrix(0, k, k); f0 <- devf(x)
    for (a in seq_len(k)) for (b in seq_len(k)) {
      i <- free[a]; j <- free[b]
      hi <- 1e-3 * max(abs(x[i]), 1e-2); hj <- 1e-3 * max(abs(x[j]), 1e-2)
      ei <- replace(numeric(length(x)), i, hi); ej <- replace(numeric(length(x)), j, hj)
      H[a, b] <- (devf(x + ei + ej) - devf(x + ei - ej) - devf(x - ei + ej) +
                  devf(x - ei - ej)) / (4 * hi * hj)
    }
    step <- -solve(H, g[free])
    x[free] <- pmax(x[free] + step, lower[free])
    if (max(abs(step)) < 1e-12) break
  }
  f <- devf(x)
  opt <- list(par = x, fval = f, conv = 0, feval = NA, message = "Newton-polished")
  mkMerMod(environment(devf), opt, lf$reTrms, fr = lf$fr)
}

sets <- list(
  balanced = "outcome ~ alliance + session + (1 + session | client_id) + (1 | practitioner_id)",
  unbalanced = "outcome ~ alliance + baseline + session + (1 + session | client_id) + (1 | practitioner_id)",
  boundary = "outcome ~ alliance + session + (1 + session | client_id) + (1 | practitioner_id)"
)
out <- list()
add <- function(ds, reml, kind, group, name, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = ds, reml = reml, kind = kind,
    group = group, name = name, value = sprintf("%.17g", value))
}
for (ds in names(sets)) {
  d <- read.csv(file.path(here, paste0(ds, ".csv")),
                colClasses = c(client_id = "character", practitioner_id = "character"))
  for (reml in c(TRUE, FALSE)) {
    raw <- lmer(as.formula(sets[[ds]]), data = d, REML = reml, control = ctrl)
    fit <- polish(as.formula(sets[[ds]]), d, reml, getME(raw, "theta"))
    th0 <- getME(raw, "theta")
    for (i in seq_along(th0)) add(ds, reml, "theta_bobyqa", "", names(th0)[i], th0[i])
    add(ds, reml, "deviance_bobyqa", "", "", if (reml) REMLcrit(raw) else deviance(raw))
    fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
    for (i in seq_along(fe)) {
      term <- if (names(fe)[i] == "(Intercept)") "Intercept" else names(fe)[i]
      add(ds, reml, "estimate", "", term, fe[i])
      add(ds, reml, "std_error", "", term, se[i])
    }
    vc <- as.data.frame(VarCorr(fit))
    for (i in seq_len(nrow(vc))) {
      nm <- if (is.na(vc$var2[i])) vc$var1[i] else paste0(vc$var1[i], ":", vc$var2[i])
      nm <- gsub("\\(Intercept\\)", "Intercept", nm)
      if (is.na(nm)) nm <- "Residual"
      add(ds, reml, "variance", vc$grp[i], nm, vc$vcov[i])
    }
    th <- getME(fit, "theta")
    for (i in seq_along(th)) add(ds, reml, "theta", "", names(th)[i], th[i])
    add(ds, reml, "loglik", "", "logLik", as.numeric(logLik(fit)))
    add(ds, reml, "deviance", "", if (reml) "REML" else "deviance",
        if (reml) REMLcrit(fit) else deviance(fit))
    add(ds, reml, "n", "", "n_obs", nobs(fit))
    re <- ranef(fit, condVar = TRUE)
    for (g in c("client_id", "practitioner_id")) {
      r <- re[[g]]; pv <- attr(r, "postVar")
      for (j in seq_len(nrow(r))) {
        lev <- rownames(r)[j]
        add(ds, reml, "blup", g, paste0(lev, "|Intercept"), r[j, 1])
        add(ds, reml, "condsd", g, paste0(lev, "|Intercept"), sqrt(pv[1, 1, j]))
        if (ncol(r) > 1) {
          add(ds, reml, "blup", g, paste0(lev, "|session"), r[j, 2])
          add(ds, reml, "condsd", g, paste0(lev, "|session"), sqrt(pv[2, 2, j]))
        }
      }
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "lme4_fits.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("lme4", as.character(packageVersion("lme4"))),
             paste("nloptr", as.character(packageVersion("nloptr")))),
           file.path(here, "lme4_versions.txt"))
