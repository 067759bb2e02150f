# Builds data/mcrpc.rda: a SIMULATED cohort of men with metastatic castration-resistant
# prostate cancer (mCRPC) starting abiraterone (exp = 1) or enzalutamide (exp = 0), laid out
# like the private cohort of the published CausalMix case study (n = 4098, 18 covariates,
# treated share 0.570, binary outcome "any hospitalisation or emergency visit within a year").
# No real patient data are used: every value is drawn below from hand-written models whose
# margins are calibrated to published summary figures (see R/data.R, @source).
#
# Run from the package root:  Rscript data-raw/mcrpc.R
# The script is deterministic (fixed RNG kinds and seed) and prints a calibration report.
#
# Order of generation (each block conditions only on earlier ones):
#   race -> age -> latent frailty -> comorbidities -> Charlson -> metastatic site ->
#   prior therapy -> co-medications -> treatment (confounded) -> outcome (with a modest,
#   cvd-modified harm of abiraterone).

set.seed(20240318, kind = "Mersenne-Twister", normal.kind = "Inversion",
         sample.kind = "Rejection")

n <- 4098L
n_abiraterone <- round(0.570 * n)   # 2336: the published treated share 0.570

# Intercept that makes the average of plogis(intercept + lp) equal to `target`, so the
# margins below are stated as prevalences rather than as opaque intercepts.
intercept_for <- function(lp, target) {
  uniroot(function(a) mean(plogis(a + lp)) - target, c(-20, 20), tol = 1e-10)$root
}

draw_binary <- function(lp, target) {
  p <- plogis(intercept_for(lp, target) + lp)
  as.integer(runif(length(p)) < p)
}

# ---- Demographics -------------------------------------------------------------------------
# US veterans / Medicare men with mCRPC: mostly White, a sizeable Black minority.
race_levels <- c("White", "Black", "Hispanic", "Other")
race_cat <- factor(sample(race_levels, n, replace = TRUE,
                          prob = c(0.72, 0.17, 0.06, 0.05)),
                   levels = race_levels)
black <- as.integer(race_cat == "Black")
hispanic <- as.integer(race_cat == "Hispanic")

# Age in whole years: mean about 76 (VA 74.5-75.8, SEER-Medicare 78), Black men about
# 3 years younger; truncated to [55, 99] by redrawing, never by clamping.
age_mean <- 76.6 - 3 * black
age_raw <- rnorm(n, age_mean, 7.5)
out_of_range <- function(a) a < 55 | a > 99.4
while (any(bad <- out_of_range(age_raw))) {
  age_raw[bad] <- rnorm(sum(bad), age_mean[bad], 7.5)
}
age <- as.integer(round(age_raw))
age10 <- (age - 76) / 10   # centred, per decade

# ---- Comorbidities ------------------------------------------------------------------------
# A shared latent frailty makes comorbidities co-occur; age raises most of them.
frailty <- rnorm(n)

hypertension <- draw_binary(0.6 * frailty + 0.3 * age10 + 0.6 * black, 0.75)
cvd <- draw_binary(0.8 * frailty + 0.5 * age10 + 0.5 * hypertension, 0.65)
diabetes <- draw_binary(0.6 * frailty - 0.1 * age10 + 0.4 * black + 0.5 * hispanic +
                          0.4 * hypertension, 0.33)
smoker_copd <- draw_binary(0.6 * frailty + 0.1 * age10 + 0.3 * cvd, 0.30)
renal <- draw_binary(0.8 * frailty + 0.4 * age10 + 0.6 * diabetes + 0.4 * hypertension +
                       0.3 * black, 0.17)
dementia <- draw_binary(0.6 * frailty + 0.9 * age10, 0.08)
infection <- draw_binary(0.7 * frailty + 0.2 * age10 + 0.2 * diabetes + 0.3 * smoker_copd +
                           0.3 * dementia, 0.20)

# Charlson comorbidity index, excluding the prostate cancer itself: the conditions above with
# their Charlson weights (cardiovascular disease often scores on several items: MI, heart
# failure, peripheral vascular, cerebrovascular) plus other conditions not recorded here.
cvd_points <- cvd * (1L + rbinom(n, 1, 0.45) + rbinom(n, 1, 0.20))
recorded_points <- cvd_points + diabetes + smoker_copd + dementia + 2L * renal
other_lp <- 0.3 * frailty + 0.2 * age10
other_target <- 4.1 - mean(recorded_points)   # overall mean about 4 (VA 4.0-4.4)
other_scale <- other_target / mean(exp(other_lp))
Charlson <- as.integer(recorded_points + rpois(n, other_scale * exp(other_lp)))

# ---- Disease and prior therapy ------------------------------------------------------------
# Metastatic site, most advanced: bone only; lymph node / soft tissue (with or without bone);
# visceral (liver, lung, ...). Younger men more often have visceral disease.
mets_levels <- c("bone_only", "nodal_or_soft_tissue", "visceral")
mets_lp <- cbind(0, log(0.32 / 0.50) + 0 * age10, log(0.18 / 0.50) - 0.15 * age10)
mets_p <- exp(mets_lp) / rowSums(exp(mets_lp))
mets_u <- runif(n)
mets_index <- 1L + (mets_u > mets_p[, 1]) + (mets_u > mets_p[, 1] + mets_p[, 2])
mets_site <- factor(mets_levels[mets_index], levels = mets_levels)
visceral <- as.integer(mets_site == "visceral")
nodal <- as.integer(mets_site == "nodal_or_soft_tissue")

# Prior androgen-receptor pathway inhibitor (ARPI): about 14% (younger, more advanced disease
# more often). Among them abiraterone alone, enzalutamide alone, or both in sequence.
prior_arpi <- draw_binary(-0.3 * age10 + 0.4 * visceral + 0.2 * nodal, 0.14)
which_arpi <- sample(c("abi", "enz", "both"), n, replace = TRUE, prob = c(0.55, 0.37, 0.08))
Abiraterone_prev <- as.integer(prior_arpi == 1L & which_arpi %in% c("abi", "both"))
Enzalutamide_prev <- as.integer(prior_arpi == 1L & which_arpi %in% c("enz", "both"))

# trt_prev is the most advanced prior systemic therapy (ARPI > docetaxel > first-generation
# antiandrogen > ADT alone), so it equals "ARPI" exactly when a *_prev flag is 1.
# Docetaxel goes to younger, fitter men and to visceral disease.
trt_levels <- c("ADT_only", "antiandrogen", "docetaxel", "ARPI")
docetaxel <- draw_binary(-0.6 * age10 - 0.4 * frailty + 0.6 * visceral, 0.17)
antiandrogen <- draw_binary(0.1 * age10, 0.45)
trt_prev <- ifelse(prior_arpi == 1L, "ARPI",
                   ifelse(docetaxel == 1L, "docetaxel",
                          ifelse(antiandrogen == 1L, "antiandrogen", "ADT_only")))
trt_prev <- factor(trt_prev, levels = trt_levels)
prior_docetaxel <- as.integer(trt_prev == "docetaxel")

# ---- Co-medications at baseline -----------------------------------------------------------
antidiabetics <- as.integer(runif(n) < ifelse(diabetes == 1L, 0.75, 0.015))
antiarrhythmics <- draw_binary(2.0 * cvd + 0.3 * age10 + 0.3 * frailty, 0.09)
blood_thinners <- draw_binary(1.6 * cvd + 0.3 * age10 + 0.2 * frailty, 0.33)
opioids <- draw_binary(0.5 * visceral + 0.2 * nodal + 0.4 * prior_arpi + 0.3 * prior_docetaxel +
                         0.3 * frailty - 0.1 * age10, 0.35)

# ---- Treatment: abiraterone (1) vs enzalutamide (0) ---------------------------------------
# Confounding as in the VA figures: enzalutamide users are older with a higher Charlson
# (74.5 vs 75.8 years; 4.0 vs 4.4) and more often have cardiovascular disease or diabetes
# (abiraterone needs prednisone). Prior abiraterone steers away from abiraterone, prior
# enzalutamide towards it. A latent-threshold model with logistic noise gives exactly
# n_abiraterone treated; the true propensity is plogis(treat_lp - threshold).
treat_lp <- -0.022 * (age - 76) - 0.035 * (Charlson - 4) - 0.08 * diabetes - 0.04 * cvd -
  0.05 * hypertension + 0.30 * dementia + 0.20 * black + 0.25 * prior_docetaxel +
  0.10 * visceral - 2.2 * Abiraterone_prev + 1.6 * Enzalutamide_prev
treat_latent <- treat_lp + rlogis(n)
threshold <- sort(treat_latent, decreasing = TRUE)[n_abiraterone]  # ties: probability 0
abiraterone <- as.integer(treat_latent >= threshold)
propensity <- plogis(treat_lp - threshold)

# ---- Outcome: any hospitalisation or ED visit within one year -----------------------------
# Risk about 0.40 (VA: 417-567 hospitalisations per 1000 person-years). Abiraterone carries a
# modest extra risk, concentrated in men with prior cardiovascular disease (mineralocorticoid
# excess; published HRs 1.31 for MI/stroke, 2.56 for heart-failure admission).
outcome_lp <- 0.025 * (age - 76) + 0.12 * (Charlson - 4) + 0.35 * dementia + 0.45 * infection +
  0.30 * renal + 0.20 * smoker_copd + 0.10 * diabetes + 0.15 * cvd + 0.30 * opioids +
  0.45 * visceral + 0.15 * nodal + 0.20 * prior_docetaxel + 0.30 * prior_arpi + 0.15 * black +
  0.15 * blood_thinners + 0.10 * antiarrhythmics
effect_logit <- 0.02 + 0.32 * cvd
outcome_a <- intercept_for(outcome_lp, 0.385)   # risk under enzalutamide for everyone
risk0 <- plogis(outcome_a + outcome_lp)
risk1 <- plogis(outcome_a + outcome_lp + effect_logit)
outcome_u <- runif(n)
hosp_ed_any <- as.integer(outcome_u < ifelse(abiraterone == 1L, risk1, risk0))

mcrpc <- data.frame(
  race_cat, age, mets_site, Enzalutamide_prev, Abiraterone_prev, trt_prev,
  dementia, infection, renal, hypertension, diabetes, smoker_copd, cvd, Charlson,
  antidiabetics, antiarrhythmics, blood_thinners, opioids,
  exp = abiraterone, hosp_ed_any
)
stopifnot(nrow(mcrpc) == n, ncol(mcrpc) == 20L, !anyNA(mcrpc))

# ---- Calibration report (figures quoted in R/data.R) ---------------------------------------
by_arm <- function(x) round(tapply(x, mcrpc$exp, mean), 3)
cat("treated share:", round(mean(abiraterone), 4), "(", sum(abiraterone), "of", n, ")\n")
cat("age mean (sd), range:", round(mean(age), 2), round(sd(age), 2), range(age), "\n")
cat("age by arm (0 = ENZ, 1 = ABI):", by_arm(age), "\n")
cat("Charlson mean (sd), range:", round(mean(Charlson), 2), round(sd(Charlson), 2),
    range(Charlson), "\n")
cat("Charlson by arm:", by_arm(Charlson), "\n")
cat("cvd by arm:", by_arm(cvd), "; cvd or diabetes by arm:", by_arm(pmax(cvd, diabetes)), "\n")
binary_cols <- c("Enzalutamide_prev", "Abiraterone_prev", "dementia", "infection", "renal",
                 "hypertension", "diabetes", "smoker_copd", "cvd", "antidiabetics",
                 "antiarrhythmics", "blood_thinners", "opioids", "exp", "hosp_ed_any")
print(round(colMeans(mcrpc[binary_cols]), 3))
print(round(prop.table(table(mcrpc$race_cat)), 3))
print(round(prop.table(table(mcrpc$mets_site)), 3))
print(round(prop.table(table(mcrpc$trt_prev)), 3))
cat("abiraterone share | prior abiraterone:",
    round(mean(abiraterone[Abiraterone_prev == 1L]), 3),
    "| prior enzalutamide only:",
    round(mean(abiraterone[Enzalutamide_prev == 1L & Abiraterone_prev == 0L]), 3), "\n")
cat("propensity range:", round(range(propensity), 3), "\n")
cat("outcome rate:", round(mean(hosp_ed_any), 3), "by arm:", by_arm(hosp_ed_any), "\n")
crude <- diff(by_arm(hosp_ed_any))
cat("crude risk difference (ABI - ENZ):", round(crude, 4), "\n")
tau <- risk1 - risk0
cat("true sample ATE:", round(mean(tau), 4), " ATT:", round(mean(tau[abiraterone == 1L]), 4),
    " ATC:", round(mean(tau[abiraterone == 0L]), 4), "\n")
cat("true CATE | cvd = 1:", round(mean(tau[cvd == 1L]), 4),
    " | cvd = 0:", round(mean(tau[cvd == 0L]), 4), "\n")

# ---- Time to the first hospitalisation or ED visit (mcrpc_tte) -----------------------------
# Drawn after everything above, so mcrpc itself is unchanged. The event time reuses the
# uniform that decided hosp_ed_any: with one-year risk p (risk1 or risk0 of the received
# drug) the time is 365 (log(1 - u) / log(1 - p))^(1 / 0.8), a Weibull law (shape 0.8: the
# hazard is highest soon after treatment start) whose probability of falling within 365 days
# is exactly p, and which falls within 365 days exactly when hosp_ed_any is 1. Loss to
# follow-up (death from other causes, leaving the health system) is exponential, about 12%
# within a year, more often in older men; follow-up ends at 365 days. Days are whole numbers
# (rounded up); the event is observed when it comes before loss to follow-up.
weibull_shape <- 0.8
risk_received <- ifelse(abiraterone == 1L, risk1, risk0)
event_days <- 365 * (log1p(-outcome_u) / log1p(-risk_received))^(1 / weibull_shape)
stopifnot(all((event_days <= 365) == (hosp_ed_any == 1L)))
loss_rate <- -log(0.88) / 365 * exp(0.4 * age10)
loss_days <- rexp(n, loss_rate)
follow_up <- pmin(event_days, loss_days, 365)
hosp_ed_event <- as.integer(event_days <= pmin(loss_days, 365))
hosp_ed_days <- as.integer(ceiling(follow_up))
mcrpc_tte <- mcrpc[setdiff(names(mcrpc), "hosp_ed_any")]
mcrpc_tte$hosp_ed_days <- hosp_ed_days
mcrpc_tte$hosp_ed_event <- hosp_ed_event
stopifnot(!anyNA(mcrpc_tte), all(hosp_ed_days >= 1L & hosp_ed_days <= 365L),
          all(hosp_ed_event <= hosp_ed_any))
cat("time to event: events", round(mean(hosp_ed_event), 3), "; lost to follow-up before a year",
    round(mean(hosp_ed_event == 0L & hosp_ed_days < 365), 3), "; censored at 365",
    round(mean(hosp_ed_event == 0L & hosp_ed_days == 365), 3), "; median days to event",
    median(hosp_ed_days[hosp_ed_event == 1L]), "\n")
km <- survival::survfit(survival::Surv(hosp_ed_days, hosp_ed_event) ~ exp, data = mcrpc_tte)
cat("Kaplan-Meier one-year risk by arm (0 = ENZ, 1 = ABI):",
    round(1 - summary(km, times = 365)$surv, 3), "\n")

save(mcrpc, file = file.path("data", "mcrpc.rda"), compress = "xz")
save(mcrpc_tte, file = file.path("data", "mcrpc_tte.rda"), compress = "xz")
