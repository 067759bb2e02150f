library(testthat)
library(causalsandbox)

test_check("causalsandbox")
