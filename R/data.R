#' Simulated cohort: abiraterone vs enzalutamide in metastatic castration-resistant prostate cancer
#'
#' A **simulated** comparative-safety cohort of 4,098 men with metastatic castration-resistant
#' prostate cancer (mCRPC) starting abiraterone or enzalutamide, laid out like the private
#' cohort of the published CausalMix case study: the same 18 covariates with their types and
#' levels, the treatment `exp` with treated share 0.570, and the binary outcome `hosp_ed_any`.
#' It contains **no real patient data**: every value was drawn from hand-written models
#' (`data-raw/mcrpc.R` in the package sources) whose margins, dependence and confounding
#' were calibrated to published summary figures (see Source). It is the example cohort for
#' fitting a generative sandbox (`causalmix()`) and for estimator comparisons, tuning and
#' power analyses.
#'
#' @format A data frame with 4,098 rows and 20 columns, no missing values. Binary columns
#'   are integers 0/1 (1 = present / yes); prevalences below are those of this data set.
#' \describe{
#'   \item{race_cat}{Factor, levels `White` (72%), `Black` (18%), `Hispanic` (6%),
#'     `Other` (4%).}
#'   \item{age}{Integer, age in years at treatment start, 55 to 99, mean 76.0 (SD 7.5);
#'     Black men about 3 years younger.}
#'   \item{mets_site}{Factor, most advanced metastatic site: `bone_only` (51%),
#'     `nodal_or_soft_tissue` (lymph node or soft tissue, with or without bone; 31%),
#'     `visceral` (liver, lung or other viscera; 18%).}
#'   \item{Enzalutamide_prev}{Integer 0/1, prior enzalutamide (6%).}
#'   \item{Abiraterone_prev}{Integer 0/1, prior abiraterone (9%); about 1% had both.}
#'   \item{trt_prev}{Factor, most advanced prior systemic therapy, levels `ADT_only`
#'     (androgen deprivation alone, 39%), `antiandrogen` (first-generation antiandrogen,
#'     33%), `docetaxel` (14%), `ARPI` (prior androgen-receptor pathway inhibitor, 14%).
#'     `trt_prev == "ARPI"` exactly when `Enzalutamide_prev` or `Abiraterone_prev` is 1.}
#'   \item{dementia}{Integer 0/1, dementia (9%; 4% below 70 years, 15% above 80).}
#'   \item{infection}{Integer 0/1, serious infection in the baseline period (20%).}
#'   \item{renal}{Integer 0/1, acute renal failure or chronic kidney disease (17%).}
#'   \item{hypertension}{Integer 0/1, hypertension (76%).}
#'   \item{diabetes}{Integer 0/1, diabetes (33%).}
#'   \item{smoker_copd}{Integer 0/1, smoking history or chronic obstructive pulmonary
#'     disease (30%).}
#'   \item{cvd}{Integer 0/1, prior cardiovascular disease (65%).}
#'   \item{Charlson}{Integer, Charlson comorbidity index excluding the prostate cancer,
#'     0 to 16, mean 4.1 (SD 2.5); rises with age and with the comorbidities above.}
#'   \item{antidiabetics}{Integer 0/1, antidiabetic drugs (26%; 75% of men with diabetes,
#'     1% of those without).}
#'   \item{antiarrhythmics}{Integer 0/1, antiarrhythmic drugs (10%; 14% with `cvd`,
#'     2% without).}
#'   \item{blood_thinners}{Integer 0/1, anticoagulants or antiplatelets (33%; 44% with
#'     `cvd`, 12% without).}
#'   \item{opioids}{Integer 0/1, opioid analgesics (34%); more common with visceral or nodal
#'     disease and after prior docetaxel or ARPI.}
#'   \item{exp}{Integer 0/1, treatment: 1 = abiraterone (2,336 men, share 0.570),
#'     0 = enzalutamide (1,762).}
#'   \item{hosp_ed_any}{Integer 0/1, any hospitalisation or emergency-department visit within
#'     one year of treatment start (40.5%; 41.7% with abiraterone, 38.9% with
#'     enzalutamide).}
#' }
#'
#' @details
#' Dependence. A latent frailty shared by the comorbidities makes them co-occur, and age
#' raises most of them (dementia, cardiovascular and renal disease most); the Charlson index
#' sums the recorded conditions with their Charlson weights plus unrecorded ones. Medications
#' follow their indications (diabetes and antidiabetics; `cvd` and blood thinners or
#' antiarrhythmics). Younger men and visceral disease more often had docetaxel or a prior
#' ARPI.
#'
#' Confounding. Treatment follows a logistic propensity model of the covariates (true
#' propensities 0.07 to 0.94). As in the Veterans Affairs figures, enzalutamide users are
#' older (mean age 76.6 vs 75.5) with a higher Charlson index (4.3 vs 3.9) and more
#' cardiovascular disease or diabetes (78% vs 72%); Black men and men with dementia or
#' prior docetaxel more often receive abiraterone. Prior abiraterone steers strongly away
#' from abiraterone (18% receive it again) and prior enzalutamide towards it (86%).
#'
#' Outcome and truth. The one-year risk follows a logistic model of the covariates (higher
#' with age, Charlson, dementia, infection, renal disease, visceral metastases, opioids,
#' prior lines of therapy). Abiraterone adds 0.02 + 0.32 `cvd` on the log-odds scale: a
#' modest harm concentrated in men with prior cardiovascular disease. In this data set the
#' true average effect of abiraterone on the one-year risk (risk difference, averaged over
#' the 4,098 men) is 0.052 (ATT 0.050, ATC 0.055): 0.078 with `cvd = 1` and 0.004 with
#' `cvd = 0`. Confounding hides part of it: the crude risk difference is 0.028.
#' The potential outcomes are not part of the data, as in a real study; draw synthetic
#' cohorts from a fitted sandbox to get them.
#'
#' @md
#' @source Simulated with `data-raw/mcrpc.R` (fixed seed). Calibration targets, all
#' published summary figures:
#' \itemize{
#'   \item Layout of the private case-study cohort (n = 4,098, 18 covariates, treated share
#'     0.570, outcome any hospitalisation or emergency visit): Zhang, Parikh, Naimi, Nabi,
#'     Kim, Lash, "Controllable Generative Sandbox for Causal Inference", arXiv:2603.03587.
#'   \item Age 74.5 (abiraterone) vs 75.8 (enzalutamide), Charlson 4.0 vs 4.4, 465-567 vs
#'     417-430 hospitalisations per 1,000 person-years: US Veterans Affairs cohort,
#'     Clinical Genitourinary Cancer 2024; 22:18.
#'   \item Cardiovascular disease or diabetes 70.6% vs 74.2%, treated share 57%: US
#'     Veterans Affairs survival cohort, Prostate Cancer and Prostatic Diseases 2022.
#'   \item Mean age 78 and 60-70% with prior cardiovascular disease: SEER-Medicare,
#'     ICPE 2023 abstract.
#'   \item Direction and size of the abiraterone harm: hazard ratio 1.31 for myocardial
#'     infarction or stroke (Kulkarni, ESMO Open 2021), 2.56 for heart-failure admission
#'     (Prostate 2023), inpatient admissions IRR 0.87 for enzalutamide vs abiraterone
#'     (Schultz, Advances in Therapy 2018).
#' }
#' Race, metastatic-site, prior-therapy and medication shares are plausible values for US
#' veterans and Medicare men with mCRPC, not figures from a particular publication.
#'
#' @examples
#' str(mcrpc)
#' mean(mcrpc$exp)
#' # confounding: enzalutamide (exp = 0) users are older with a higher Charlson index
#' aggregate(cbind(age, Charlson, cvd) ~ exp, data = mcrpc, FUN = mean)
#' # one-year risk by arm and prior cardiovascular disease
#' with(mcrpc, round(tapply(hosp_ed_any, list(cvd = cvd, exp = exp), mean), 3))
"mcrpc"
