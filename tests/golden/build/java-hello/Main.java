import main.java.Greeter;

public class Main {
  public static void main(String[] args) {
    System.out.println(new Greeter().greet(System.getenv("API_USER")));
  }
}
