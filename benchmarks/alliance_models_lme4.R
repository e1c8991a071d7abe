# lme4 estimates for benchmarks/alliance_models.py (run once; only the estimates are committed).
#
#   python benchmarks/alliance_models.py --write-csv /tmp/bench
#   Rscript benchmarks/alliance_models_lme4.R /tmp/bench
#
# Growth: lmer(outcome ~ alliance + session + (1 + session | client_id) + (1 | practitioner_id))
# Lagged: consecutive-session pairs, alliance_within = alliance - client mean,
#   lmer(outcome_next ~ outcome + alliance_within + alliance_between + session
#        + (1 + session | client_id) + (1 | practitioner_id))
# REML, lme4's default optimiser settings.  Writes alliance_models_lme4.csv next to this script
# (n_clients, model, name, value, seconds).
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
fa <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", fa[grep("^--file=", fa)])))
sizes <- if (length(args) > 1) as.integer(args[-1]) else c(2000L, 10000L, 50000L)
out <- list()
for (n in sizes) {
  d <- read.csv(file.path(dir, paste0("alliance_", n, ".csv")))
  d$client_id <- factor(d$client_id); d$practitioner_id <- factor(d$practitioner_id)
  d$alliance_between <- ave(d$alliance, d$client_id, FUN = mean)
  d$alliance_within <- d$alliance - d$alliance_between
  nx <- data.frame(client_id = d$client_id, session = d$session - 1, outcome_next = d$outcome)
  lag <- merge(d, nx, by = c("client_id", "session"))
  models <- list(
    growth = list(outcome ~ alliance + session + (1 + session | client_id) + (1 | practitioner_id), d),
    lagged = list(outcome_next ~ outcome + alliance_within + alliance_between + session +
                    (1 + session | client_id) + (1 | practitioner_id), lag))
  for (m in names(models)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- lmer(models[[m]][[1]], data = models[[m]][[2]], REML = TRUE)
    secs <- proc.time()[["elapsed"]] - t0
    fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
    nm <- sub("\\(Intercept\\)", "Intercept", names(fe))
    vals <- c(setNames(fe, paste0("fixef:", nm)), setNames(se, paste0("se:", nm)))
    vc <- as.data.frame(VarCorr(fit))
    vname <- ifelse(is.na(vc$var2), vc$var1, paste0(vc$var1, ":", vc$var2))
    vname <- sub("\\(Intercept\\)", "Intercept", vname)
    vname[is.na(vname)] <- "Residual"
    vals <- c(vals, setNames(vc$vcov, paste0("vc:", vc$grp, ":", vname)))
    vals <- c(vals, logLik = as.numeric(logLik(fit)))
    out[[length(out) + 1]] <- data.frame(n_clients = n, model = m, name = names(vals),
      value = sprintf("%.12g", vals), seconds = round(secs, 1))
    cat(n, m, secs, "s\n")
    write.csv(do.call(rbind, out), file.path(here, "alliance_models_lme4.csv"), row.names = FALSE)
  }
}
