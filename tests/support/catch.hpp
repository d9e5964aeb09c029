// tests/support/catch.hpp: the one include of Catch2 (v2 here; v3 later changes only this file).
#pragma once
#include <catch2/catch.hpp>
