document.getElementById("app")!.textContent = "The order board is being built.";
