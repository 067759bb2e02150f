#' Simulated cohort with a time to the first hospitalisation or ED visit
#'
#' The **simulated** [mcrpc] cohort (4,098 men with metastatic castration-resistant prostate
#' cancer starting abiraterone, `exp = 1`, or enzalutamide, `exp = 0`; no real patient data)
#' with the binary outcome `hosp_ed_any` replaced by the time to the first hospitalisation or
#' emergency-department visit, censored at 365 days and at a simulated loss to follow-up.
#'
#' @format A data frame with 4,098 rows and 21 columns: the 18 covariates and `exp` of
#'   [mcrpc], and
#' \describe{
#'   \item{race_cat}{As in [mcrpc].}
#'   \item{age}{As in [mcrpc].}
#'   \item{mets_site}{As in [mcrpc].}
#'   \item{Enzalutamide_prev}{As in [mcrpc].}
#'   \item{Abiraterone_prev}{As in [mcrpc].}
#'   \item{trt_prev}{As in [mcrpc].}
#'   \item{dementia}{As in [mcrpc].}
#'   \item{infection}{As in [mcrpc].}
#'   \item{renal}{As in [mcrpc].}
#'   \item{hypertension}{As in [mcrpc].}
#'   \item{diabetes}{As in [mcrpc].}
#'   \item{smoker_copd}{As in [mcrpc].}
#'   \item{cvd}{As in [mcrpc].}
#'   \item{Charlson}{As in [mcrpc].}
#'   \item{antidiabetics}{As in [mcrpc].}
#'   \item{antiarrhythmics}{As in [mcrpc].}
#'   \item{blood_thinners}{As in [mcrpc].}
#'   \item{opioids}{As in [mcrpc].}
#'   \item{exp}{As in [mcrpc].}
#'   \item{hosp_ed_days}{Integer, days from treatment start to the first hospitalisation or
#'     ED visit, or to censoring (1 to 365).}
#'   \item{hosp_ed_event}{Integer 0/1, 1 when the visit was observed (38.4%); 0 when follow-up
#'     ended first: lost to follow-up before a year (9.2%) or event-free at 365 days (52.5%).}
#' }
#'
#' @details
#' The event time is consistent with `hosp_ed_any` of [mcrpc] row by row: it falls within 365
#' days exactly when `hosp_ed_any` is 1 (it reuses the uniform draw that decided
#' `hosp_ed_any`), from a Weibull law of shape 0.8 (hazard highest soon after treatment
#' start) whose one-year risk is the row's true risk under the received drug. So a row with
#' `hosp_ed_event = 1` has `hosp_ed_any = 1`, and a row with `hosp_ed_any = 1` and no event
#' was lost to follow-up first. Loss to follow-up is exponential, about 12% within a year,
#' more frequent with age, independent of the event time given the covariates. The treatment
#' effect acts on the one-year risk (logit scale, larger with prior cardiovascular disease),
#' so the hazards of the two drugs are not proportional. Kaplan-Meier one-year risks: 0.384
#' (enzalutamide), 0.418 (abiraterone). Built by `data-raw/mcrpc.R`.
#' @source Simulated; see [mcrpc].
#' @examples
#' fit <- survival::survfit(survival::Surv(hosp_ed_days, hosp_ed_event) ~ exp,
#'                          data = mcrpc_tte)
#' summary(fit, times = 365)$surv
"mcrpc_tte"
