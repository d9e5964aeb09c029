// main.cpp: postrider's entry point; everything happens in app::run_cli.
#include "app/cli.hpp"

int main(int argc, char** argv)
{
    return postrider::app::run_cli(argc, argv);
}
