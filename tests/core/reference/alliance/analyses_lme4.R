# Reference numbers for harmonybridge.alliance.outcomes on wide.csv (run once; output committed).
#
#   Rscript tests/core/reference/alliance/analyses_lme4.R
#
# Writes analyses_reference.csv (analysis, name, value).  R 4.2.2, lme4 1.1.31.
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv(file.path(here, "wide.csv"), stringsAsFactors = FALSE)
d <- d[order(d$engagement_id, d$session), ]
out <- list()
add <- function(analysis, name, value) {
  out[[length(out) + 1]] <<- data.frame(analysis = analysis, name = name,
                                        value = sprintf("%.17g", value))
}

# association: early alliance = mean over sessions 1-3; final = outcome at the last session;
# change = final - first (units whose first and last sessions differ)
for (a in c("alliance_client", "alliance_practitioner")) {
  early <- tapply(d[[a]][d$session <= 3], d$engagement_id[d$session <= 3], mean)
  first <- tapply(d$who5, d$engagement_id, function(v) v[1])
  final <- tapply(d$who5, d$engagement_id, function(v) v[length(v)])
  nses <- tapply(d$session, d$engagement_id, function(v) v[length(v)] > v[1])
  ids <- names(early)
  ct <- cor.test(early[ids], final[ids])  # Fisher z CI
  add(paste0("association_final_", a), "r", ct$estimate)
  add(paste0("association_final_", a), "ci_low", ct$conf.int[1])
  add(paste0("association_final_", a), "ci_high", ct$conf.int[2])
  add(paste0("association_final_", a), "n", length(ids))
  ok <- ids[nses[ids]]
  ct <- cor.test(early[ok], (final - first)[ok])
  add(paste0("association_change_", a), "r", ct$estimate)
  add(paste0("association_change_", a), "ci_low", ct$conf.int[1])
  add(paste0("association_change_", a), "ci_high", ct$conf.int[2])
  add(paste0("association_change_", a), "n", length(ok))
}

# lagged model: consecutive sessions (t, t+1); within = alliance_t - unit mean alliance
d$between <- ave(d$alliance_client, d$engagement_id, FUN = mean)
d$within <- d$alliance_client - d$between
nx <- data.frame(engagement_id = d$engagement_id, session = d$session - 1, who5_next = d$who5)
lag <- merge(d, nx, by = c("engagement_id", "session"))
ctrl <- lmerControl(optimizer = "nloptwrap", optCtrl = list(algorithm = "NLOPT_LN_BOBYQA",
  xtol_rel = 1e-14, ftol_rel = 1e-15, ftol_abs = 1e-15, xtol_abs = 1e-14, maxeval = 1e6))
fit <- lmer(who5_next ~ who5 + within + between + session + (1 + session | engagement_id) +
            (1 | practitioner_id), data = lag, REML = TRUE, control = ctrl)
add("lagged", "n_pairs", nobs(fit))
add("lagged", "within", fixef(fit)["within"])
add("lagged", "within_se", sqrt(diag(as.matrix(vcov(fit))))["within"])
add("lagged", "between", fixef(fit)["between"])
add("lagged", "between_se", sqrt(diag(as.matrix(vcov(fit))))["between"])
add("lagged", "logLik", as.numeric(logLik(fit)))

# practitioner ICC of the outcome and of the client-rated alliance (REML)
for (v in c("who5", "alliance_client")) {
  f0 <- lmer(as.formula(paste(v, "~ 1 + (1 | engagement_id) + (1 | practitioner_id)")),
             data = d, REML = TRUE, control = ctrl)
  vc <- as.data.frame(VarCorr(f0))
  vp <- vc$vcov[vc$grp == "practitioner_id"]
  add(paste0("icc_", v), "icc", vp / sum(vc$vcov))
  add(paste0("icc_", v), "var_practitioner", vp)
  add(paste0("icc_", v), "var_unit", vc$vcov[vc$grp == "engagement_id"])
  add(paste0("icc_", v), "var_residual", vc$vcov[vc$grp == "Residual"])
  # parametric bootstrap percentile CI (bootMer), for a loose comparison
  set.seed(2018)
  icc <- function(m) { vc <- as.data.frame(VarCorr(m)); vc$vcov[vc$grp == "practitioner_id"] / sum(vc$vcov) }
  bs <- bootMer(f0, icc, nsim = 400, type = "parametric", use.u = FALSE)
  q <- quantile(bs$t[, 1], c(0.025, 0.975))
  add(paste0("icc_", v), "boot_low", q[1])
  add(paste0("icc_", v), "boot_high", q[2])
}

# response surface: who5 ~ C + P + C^2 + CP + P^2, both centred at their pooled mean
both <- d[!is.na(d$alliance_client) & !is.na(d$alliance_practitioner), ]
mid <- mean(c(both$alliance_client, both$alliance_practitioner))
both$C <- both$alliance_client - mid
both$P <- both$alliance_practitioner - mid
m <- lm(who5 ~ C + P + I(C^2) + I(C * P) + I(P^2), data = both)
b <- coef(m); V <- vcov(m)
L <- rbind(a1 = c(0, 1, 1, 0, 0, 0), a2 = c(0, 0, 0, 1, 1, 1), a3 = c(0, 1, -1, 0, 0, 0),
           a4 = c(0, 0, 0, 1, -1, 1), a5 = c(0, 0, 0, 1, 0, -1))
for (i in 1:5) {
  add("rsa", paste0("b", i), b[i + 1]); add("rsa", paste0("b", i, "_se"), sqrt(V[i + 1, i + 1]))
}
for (a in rownames(L)) {
  add("rsa", a, sum(L[a, ] * b)); add("rsa", paste0(a, "_se"), sqrt(t(L[a, ]) %*% V %*% L[a, ]))
}
# agreement: r (cor.test) and paired d_z
ct <- cor.test(both$alliance_client, both$alliance_practitioner)
add("agreement", "r", ct$estimate); add("agreement", "r_low", ct$conf.int[1])
add("agreement", "r_high", ct$conf.int[2])
dif <- both$alliance_client - both$alliance_practitioner
tt <- t.test(dif)
add("agreement", "mean_difference", mean(dif)); add("agreement", "md_low", tt$conf.int[1])
add("agreement", "md_high", tt$conf.int[2]); add("agreement", "paired_d", mean(dif) / sd(dif))
add("agreement", "n", nrow(both))

write.csv(do.call(rbind, out), file.path(here, "analyses_reference.csv"), row.names = FALSE)
