#pragma once
#ifdef __cplusplus
extern "C" {
#endif
int fixture_straight(int x);
int fixture_branchy(int x);
int fixture_never(int x);
#ifdef __cplusplus
}
#endif
